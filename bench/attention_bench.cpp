// attention() throughput on the 4B vision shape (2852 patches, 16 heads of
// 64, full attention), the 8B/30B-A3B one (16 heads of 72) and a 512-token causal prefill (32 query heads, 8 kv
// heads of 128), the vision one also with bf16 products: GFLOP/s (4·n_q·n_kv·head_dim·heads, halved for causal) from
// wall time and from process CPU time divided by the pool size.
// A plain main: build/bin/attention_bench [reps]
#include <time.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/attention.h"

using namespace qwen3vl;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 1;
  struct Case {
    const char* what;
    int64_t n;
    int heads, kv_heads, head_dim;
    bool causal;
    bool bf16;
  };
  const Case cases[] = {{"vision 2852", 2852, 16, 16, 64, false, false},
                        {"vision bf16", 2852, 16, 16, 64, false, true},
                        {"vision hd72", 2852, 16, 16, 72, false, false},
                        {"hd72 bf16", 2852, 16, 16, 72, false, true},
                        {"prefill 512", 512, 32, 8, 128, true, false}};
  ThreadPool pool(0);
  const int threads = pool.size();
  for (const Case& c : cases) {
    AttentionShape s;
    s.n_q = s.n_kv = c.n;
    s.n_heads = c.heads;
    s.n_kv_heads = c.kv_heads;
    s.head_dim = c.head_dim;
    s.q_stride = s.out_stride = static_cast<int64_t>(c.heads) * c.head_dim;
    s.kv_stride = static_cast<int64_t>(c.kv_heads) * c.head_dim;
    s.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
    s.causal = c.causal;
    s.inputs_format = c.bf16 ? WeightFormat::Q8 : WeightFormat::F32;
    std::vector<float> q(static_cast<size_t>(c.n * s.q_stride)), k(static_cast<size_t>(c.n * s.kv_stride)),
        out(q.size());
    for (size_t i = 0; i < q.size(); ++i) q[i] = static_cast<float>((i * 7919) % 1000) / 500.0f - 1.0f;
    for (size_t i = 0; i < k.size(); ++i) k[i] = static_cast<float>((i * 104729) % 1000) / 500.0f - 1.0f;
    attention(q.data(), k.data(), k.data(), s, out.data(), pool);  // warm-up
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    for (int r = 0; r < reps; ++r) attention(q.data(), k.data(), k.data(), s, out.data(), pool);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
    const double cpu = (cpu_seconds() - c0) / reps / threads;
    const double flops = 4.0 * c.n * c.n * c.head_dim * c.heads * (c.causal ? 0.5 : 1.0) * 1e-9;
    std::printf("%-12s %7.1f ms wall %6.1f GFLOP/s | %7.1f ms cpu/thr %6.1f GFLOP/s\n", c.what, wall * 1e3,
                flops / wall, cpu * 1e3, flops / cpu);
  }
  return 0;
}
