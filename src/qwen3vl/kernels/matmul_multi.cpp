#include "qwen3vl/kernels/matmul_multi.h"

#include <algorithm>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_kernels.h"
#include "qwen3vl/kernels/quant.h"

namespace qwen3vl {

namespace {

bool is_quantized(WeightFormat f) { return f == WeightFormat::Q8 || f == WeightFormat::Q4; }

// Rows per unit of work: a quantized tile, or the same count of float rows
// (small enough to balance two threads, large enough to keep streams long).
constexpr int64_t kUnitRows = kQuantTileRows;

int64_t units_of(const WeightMatrix& w) { return (w.rows + kUnitRows - 1) / kUnitRows; }

// Output rows [u0, u1) units of one layer for a single input row (SIMD ISAs).
void gemv_units(const float* x, const QuantizedActivations& a, const LinearOutput& o, int64_t u0, int64_t u1,
                const kernels::MatmulKernels& simd) {
  const WeightMatrix& w = *o.weight;
  const int64_t n0 = u0 * kUnitRows, n1 = std::min(w.rows, u1 * kUnitRows);
  if (is_quantized(w.format)) simd.quant_gemv(a, w, u0, u1, o.y);
  else simd.float_gemv(x, w, n0, n1, o.y);
  if (o.bias)
    for (int64_t n = n0; n < n1; ++n) o.y[n] += o.bias[n];
}

}  // namespace

void matmul_multi(const float* x, int64_t m, std::span<const LinearOutput> outputs, ThreadPool& pool) {
  if (outputs.empty() || m <= 0) return;
  int64_t cols = -1;  // of the shared input
  bool shared_quantized = false;
  for (const LinearOutput& o : outputs) {
    check(o.weight && o.weight->data && o.y, "matmul_multi: missing weight or output");
    if (o.x) continue;
    check(x != nullptr, "matmul_multi: an output without an input");
    if (cols < 0) cols = o.weight->cols;
    check(o.weight->cols == cols, "matmul_multi: weights of different input widths (" + std::to_string(cols) +
                                      " and " + std::to_string(o.weight->cols) + ")");
    shared_quantized = shared_quantized || is_quantized(o.weight->format);
  }
  const IsaLevel isa = active_isa_level();
  if (m > 1 || isa == IsaLevel::Scalar) {
    for (const LinearOutput& o : outputs) matmul(o.x ? o.x : x, m, *o.weight, o.bias, o.y, pool);
    return;
  }
  // Each input quantized once (the shared one for every layer reading it);
  // reused across calls from this thread (named references, so the workers
  // see the caller's buffers).
  auto quantize_row = [](const float* row, int64_t width, QuantizedActivations& out) {
    quantize_activations(row, 1, width, out, nullptr);
  };
  thread_local QuantizedActivations per_thread_activations;
  thread_local std::vector<QuantizedActivations> per_thread_own;
  QuantizedActivations& activations = per_thread_activations;
  std::vector<QuantizedActivations>& own = per_thread_own;
  if (shared_quantized) quantize_row(x, cols, activations);
  if (own.size() < outputs.size()) own.resize(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].x && is_quantized(outputs[i].weight->format))
      quantize_row(outputs[i].x, outputs[i].weight->cols, own[i]);
  const kernels::MatmulKernels& simd = *kernels::matmul_kernels_for(isa);

  int64_t total = 0;
  for (const LinearOutput& o : outputs) total += units_of(*o.weight);
  // The concatenated units are claimed in chunks of ~kChunkBytes of weights:
  // long enough that each claim streams sequentially and the claim costs
  // nothing, short enough that a thread delayed by the OS leaves little work
  // the other cannot take over (ThreadPool::parallel_chunks).
  constexpr double kChunkBytes = 192 * 1024;
  const WeightMatrix& first = *outputs[0].weight;
  const double unit_bytes = static_cast<double>(first.bytes()) / static_cast<double>(units_of(first));
  const int64_t chunk = std::max<int64_t>(1, static_cast<int64_t>(kChunkBytes / unit_bytes));
  auto run_range = [&](int64_t begin, int64_t end) {
    int64_t offset = 0;
    for (size_t i = 0; i < outputs.size(); ++i) {
      const LinearOutput& o = outputs[i];
      const int64_t units = units_of(*o.weight);
      const int64_t u0 = std::max(begin, offset) - offset, u1 = std::min(end, offset + units) - offset;
      if (u0 < u1) gemv_units(o.x ? o.x : x, o.x ? own[i] : activations, o, u0, u1, simd);
      offset += units;
    }
  };
  pool.parallel_chunks(total, chunk, run_range);
}

}  // namespace qwen3vl
