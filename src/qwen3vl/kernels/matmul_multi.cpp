#include "qwen3vl/kernels/matmul_multi.h"

#include <algorithm>
#include <string>
#include <vector>

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

// Output rows [u0, u1) units of one layer for m input rows (SIMD ISAs);
// each row computed as it would be alone.
void gemv_units(const float* x, int64_t m, const QuantizedActivations& a, const LinearOutput& o, int64_t u0,
                int64_t u1, const kernels::MatmulKernels& simd) {
  const WeightMatrix& w = *o.weight;
  const int64_t n0 = u0 * kUnitRows, n1 = std::min(w.rows, u1 * kUnitRows);
  if (is_quantized(w.format)) {
    // Both kernels are bit-identical to the scalar tiles for every row.
    if (m == 1) simd.quant_gemv(a, w, u0, u1, o.y);
    else simd.quant_gemm(a, w, u0, u1, o.y);
  } else if (m == 1) {
    simd.float_gemv(x, w, n0, n1, o.y);
  } else {
    // Unit by unit, so the rows after the first find the unit's weights in cache.
    for (int64_t u = u0; u < u1; ++u) {
      const int64_t r0 = u * kUnitRows, r1 = std::min(w.rows, r0 + kUnitRows);
      for (int64_t i = 0; i < m; ++i) simd.float_gemv(x + i * w.cols, w, r0, r1, o.y + i * w.rows);
    }
  }
  if (o.bias)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t n = n0; n < n1; ++n) o.y[i * w.rows + n] += o.bias[n];
}

// Checks every layer has a weight, an output and an input (its own or the
// shared `x`, whose readers must agree on its width); tells whether a layer
// reading the shared input is quantized, and its width.
struct SharedInput {
  int64_t cols = -1;
  bool quantized = false;
};
SharedInput check_outputs(const float* x, std::span<const LinearOutput> outputs) {
  SharedInput shared;
  for (const LinearOutput& o : outputs) {
    check(o.weight && o.weight->data && o.y, "matmul_multi: missing weight or output");
    if (o.x) continue;
    check(x != nullptr, "matmul_multi: an output without an input");
    if (shared.cols < 0) shared.cols = o.weight->cols;
    check(o.weight->cols == shared.cols, "matmul_multi: weights of different input widths (" +
                                             std::to_string(shared.cols) + " and " +
                                             std::to_string(o.weight->cols) + ")");
    shared.quantized = shared.quantized || is_quantized(o.weight->format);
  }
  return shared;
}

// Every layer's output rows split over the threads together, for m rows
// computed one by one (SIMD ISAs).
void gemv_layers(const float* x, int64_t m, std::span<const LinearOutput> outputs, const SharedInput& shared,
                 IsaLevel isa, ThreadPool& pool) {
  // Each input quantized once (the shared one for every layer reading it);
  // reused across calls from this thread (named references, so the workers
  // see the caller's buffers).
  thread_local QuantizedActivations per_thread_activations;
  thread_local std::vector<QuantizedActivations> per_thread_own;
  QuantizedActivations& activations = per_thread_activations;
  std::vector<QuantizedActivations>& own = per_thread_own;
  if (shared.quantized) quantize_activations(x, m, shared.cols, activations, nullptr);
  if (own.size() < outputs.size()) own.resize(outputs.size());
  for (size_t i = 0; i < outputs.size(); ++i)
    if (outputs[i].x && is_quantized(outputs[i].weight->format))
      quantize_activations(outputs[i].x, m, outputs[i].weight->cols, own[i], nullptr);
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
      if (u0 < u1) gemv_units(o.x ? o.x : x, m, o.x ? own[i] : activations, o, u0, u1, simd);
      offset += units;
    }
  };
  pool.parallel_chunks(total, chunk, run_range);
}

}  // namespace

void matmul_multi(const float* x, int64_t m, std::span<const LinearOutput> outputs, ThreadPool& pool) {
  if (outputs.empty() || m <= 0) return;
  const SharedInput shared = check_outputs(x, outputs);
  const IsaLevel isa = active_isa_level();
  if (m > 1 || isa == IsaLevel::Scalar) {
    for (const LinearOutput& o : outputs) matmul(o.x ? o.x : x, m, *o.weight, o.bias, o.y, pool);
    return;
  }
  gemv_layers(x, 1, outputs, shared, isa, pool);
}

void matmul_multi_rowwise(const float* x, int64_t m, std::span<const LinearOutput> outputs, ThreadPool& pool) {
  if (outputs.empty() || m <= 0) return;
  const SharedInput shared = check_outputs(x, outputs);
  const IsaLevel isa = active_isa_level();
  // The scalar loops compute each row alone at any m.
  if (isa == IsaLevel::Scalar) {
    for (const LinearOutput& o : outputs) matmul(o.x ? o.x : x, m, *o.weight, o.bias, o.y, pool);
    return;
  }
  gemv_layers(x, m, outputs, shared, isa, pool);
}

}  // namespace qwen3vl
