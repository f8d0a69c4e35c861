#include <cstdio>
int main() { std::puts("qwen3vl: under construction"); return 0; }
