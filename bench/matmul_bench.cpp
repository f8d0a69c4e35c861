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
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {
namespace {

constexpr size_t kProbeBytes = size_t{1} << 30;

// Sums a buffer as 64-bit integers with independent accumulators, so the loop
// is limited by memory, not by a dependency chain.
uint64_t read_stream(const uint64_t* p, size_t n) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  for (size_t i = 0; i + 4 <= n; i += 4) {
    a += p[i];
    b += p[i + 1];
    c += p[i + 2];
    d += p[i + 3];
  }
  return a ^ b ^ c ^ d;
}

std::vector<uint64_t>& probe_buffer() {
  static std::vector<uint64_t> buffer = [] {
    std::vector<uint64_t> b(kProbeBytes / 8);
    for (size_t i = 0; i < b.size(); ++i) b[i] = i;  // touch every page
    return b;
  }();
  return buffer;
}

// The pool every benchmark here runs on: one thread per core.
ThreadPool& bench_pool() {
  static ThreadPool pool(0);
  return pool;
}

// One streaming pass over the 1 GB buffer split across the pool; returns seconds.
double probe_pass(ThreadPool& pool) {
  auto& buffer = probe_buffer();
  std::vector<uint64_t> sink(pool.size());
  const auto t0 = std::chrono::steady_clock::now();
  pool.run_on_all([&](int t, int nt) {
    const size_t begin = buffer.size() * t / nt, end = buffer.size() * (t + 1) / nt;
    sink[t] = read_stream(buffer.data() + begin, end - begin);
  });
  const auto t1 = std::chrono::steady_clock::now();
  benchmark::DoNotOptimize(sink.data());
  return std::chrono::duration<double>(t1 - t0).count();
}

// Best of a few passes, measured once: the bandwidth limit GEMV is compared with.
double measured_bandwidth() {
  static const double bytes_per_second = [] {
    double best = 1e30;
    for (int i = 0; i < 3; ++i) best = std::min(best, probe_pass(bench_pool()));
    return kProbeBytes / best;
  }();
  return bytes_per_second;
}

void BM_MemoryBandwidth(benchmark::State& state) {
  double seconds = 0;
  for (auto _ : state) seconds += probe_pass(bench_pool());
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * kProbeBytes));
  state.counters["threads"] = bench_pool().size();
}
BENCHMARK(BM_MemoryBandwidth)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

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
