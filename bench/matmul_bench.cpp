// Matmul throughput: GEMV (decode, memory bound) as effective GB/s of weight
// streamed and as a fraction of a measured streaming-read bandwidth; GEMM
// (prefill / vision, compute bound) as GFLOP/s (or GOPS for int8 formats).
// Run: build/bin/matmul_bench [--benchmark_filter=...]; QWEN3VL_ISA caps the ISA.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/runtime/bandwidth_probe.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {
namespace {

// The pool every benchmark here runs on: one thread per core.
ThreadPool& bench_pool() {
  static ThreadPool pool(0);
  return pool;
}

// The bandwidth limit GEMV is compared with: the probe `qwen3vl bench` uses
// (runtime/bandwidth_probe.h), measured once on this pool.
double measured_bandwidth() {
  static const double bytes_per_second = probe_read_bandwidth(bench_pool()).gbps * 1e9;
  return bytes_per_second;
}

void BM_MemoryBandwidth(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(measured_bandwidth());
  state.counters["GB/s"] = measured_bandwidth() / 1e9;
  state.counters["threads"] = bench_pool().size();
}
BENCHMARK(BM_MemoryBandwidth)->Iterations(1);

WeightMatrix make_weight(WeightFormat format, int64_t rows, int64_t cols) {
  std::mt19937 rng(42);
  std::normal_distribution<float> dist(0.0f, 0.02f);
  std::vector<float> values(static_cast<size_t>(rows * cols));
  for (float& v : values) v = dist(rng);
  const WeightMatrix f32 = make_f32_weight(rows, cols, std::move(values));
  if (format == WeightFormat::F32) return f32;
  if (format == WeightFormat::Q8 || format == WeightFormat::Q4) return quantize_weight(f32, format);
  auto storage = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(rows * cols));
  const float* src = static_cast<const float*>(f32.data);
  for (size_t i = 0; i < storage->size(); ++i)
    (*storage)[i] = format == WeightFormat::BF16 ? f32_to_bf16(src[i]) : f32_to_f16(src[i]);
  WeightMatrix w;
  w.format = format;
  w.rows = rows;
  w.cols = cols;
  w.data = storage->data();
  w.owner = storage;
  return w;
}

void run_matmul(benchmark::State& state, WeightFormat format, int64_t m, int64_t rows, int64_t cols) {
  const WeightMatrix w = make_weight(format, rows, cols);
  std::vector<float> x(static_cast<size_t>(m * cols), 0.5f), y(static_cast<size_t>(m * rows));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>((i * 7919) % 1000) / 1000.0f - 0.5f;
  matmul(x.data(), m, w, nullptr, y.data(), bench_pool());  // warm-up (buffers, page faults)
  for (auto _ : state) {
    matmul(x.data(), m, w, nullptr, y.data(), bench_pool());
    benchmark::ClobberMemory();
  }
  state.SetLabel(std::string(weight_format_name(format)) + " " + isa_level_name(active_isa_level()));
  if (m == 1) {
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * w.bytes()));
    state.counters["of_bandwidth"] = benchmark::Counter(
        static_cast<double>(w.bytes()) / measured_bandwidth(), benchmark::Counter::kIsIterationInvariantRate);
  } else {
    state.counters["GFLOP/s"] = benchmark::Counter(2.0 * m * rows * cols * 1e-9,
                                                   benchmark::Counter::kIsIterationInvariantRate);
  }
}

void BM_Gemv(benchmark::State& state) {
  run_matmul(state, static_cast<WeightFormat>(state.range(0)), 1, state.range(1), state.range(2));
}

void BM_Gemm(benchmark::State& state) {
  run_matmul(state, static_cast<WeightFormat>(state.range(0)), state.range(3), state.range(1), state.range(2));
}

void gemv_shapes(benchmark::internal::Benchmark* b) {
  for (WeightFormat f : {WeightFormat::BF16, WeightFormat::Q8, WeightFormat::Q4})
    for (auto [rows, cols] : {std::pair<int64_t, int64_t>{2560, 9728}, {9728, 2560}})
      b->Args({static_cast<int64_t>(f), rows, cols});
}

void gemm_shapes(benchmark::internal::Benchmark* b) {
  for (WeightFormat f : {WeightFormat::BF16, WeightFormat::Q8, WeightFormat::Q4})
    b->Args({static_cast<int64_t>(f), 9728, 2560, 512});
}

BENCHMARK(BM_Gemv)->Apply(gemv_shapes)->ArgNames({"fmt", "rows", "cols"})->Unit(benchmark::kMicrosecond)->UseRealTime()->MinTime(0.3);
BENCHMARK(BM_Gemm)->Apply(gemm_shapes)->ArgNames({"fmt", "rows", "cols", "m"})->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(0.5);

}  // namespace
}  // namespace qwen3vl

BENCHMARK_MAIN();
