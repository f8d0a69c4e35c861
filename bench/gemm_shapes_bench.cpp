// GEMM throughput of matmul() on the 4B prefill and vision shapes, per weight
// format: GFLOP/s (GOPS for Q8/Q4) from wall time and from process CPU time
// divided by the pool size (what idle cores would give; the machine is shared).
// A plain main: build/bin/gemm_shapes_bench [reps] [threads]. With 1 thread
// the CPU-time figure is the kernel's own speed even on a busy machine (no
// time spent waiting for, or spinning on, a descheduled partner thread).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/tensor/dtype.h"

using namespace qwen3vl;

namespace {

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec * 1e-9;
}

WeightMatrix bf16_weight(int64_t rows, int64_t cols) {
  std::mt19937 rng(7);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  auto storage = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(rows * cols));
  for (auto& v : *storage) v = f32_to_bf16(dist(rng));
  WeightMatrix w;
  w.format = WeightFormat::BF16;
  w.rows = rows;
  w.cols = cols;
  w.data = storage->data();
  w.owner = storage;
  return w;
}

}  // namespace

int main(int argc, char** argv) {
  const int reps = argc > 1 ? std::max(1, std::atoi(argv[1])) : 2;
  struct Shape {
    const char* what;
    int64_t m, rows, cols;
  };
  const Shape shapes[] = {{"prefill up/gate", 512, 9728, 2560}, {"prefill down", 512, 2560, 9728},
                          {"vision fc1", 2852, 4096, 1024},     {"vision fc2", 2852, 1024, 4096}};
  ThreadPool pool(argc > 2 ? std::atoi(argv[2]) : 0);
  const int threads = pool.size();
  for (const Shape& s : shapes) {
    const WeightMatrix base = bf16_weight(s.rows, s.cols);
    std::vector<float> x(static_cast<size_t>(s.m * s.cols)), y(static_cast<size_t>(s.m * s.rows));
    for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (WeightFormat f : {WeightFormat::BF16, WeightFormat::Q8, WeightFormat::Q4}) {
      const WeightMatrix w = f == WeightFormat::BF16 ? base : quantize_weight(base, f);
      matmul(x.data(), s.m, w, nullptr, y.data(), pool);  // warm-up
      const auto t0 = std::chrono::steady_clock::now();
      const double c0 = cpu_seconds();
      for (int r = 0; r < reps; ++r) matmul(x.data(), s.m, w, nullptr, y.data(), pool);
      const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
      const double cpu = (cpu_seconds() - c0) / reps / threads;
      const double ops = 2.0 * s.m * s.rows * s.cols * 1e-9;
      std::printf("%-16s m=%-5lld %5lldx%-5lld %-4s  %7.1f ms wall %6.1f G/s | %7.1f ms cpu/thr %6.1f G/s\n", s.what,
                  static_cast<long long>(s.m), static_cast<long long>(s.rows), static_cast<long long>(s.cols),
                  weight_format_name(f), wall * 1e3, ops / wall, cpu * 1e3, ops / cpu);
    }
  }
  return 0;
}
