// Several linear layers applied to the same input in one call: q/k/v of an
// attention block, gate/up of an MLP; or each to its own input: the down
// projections of a MoE layer's selected experts. For a single input row
// (decode) the layers' output rows are split over the threads together, so
// there is one parallel region (one synchronisation) instead of one per layer
// and, for Q8/Q4, each input is quantized once. Results are bit-identical to
// calling matmul() on each layer. For several input rows it calls matmul()
// per layer (the GEMM kernels amortise their own overheads).
#pragma once
#include <cstdint>
#include <span>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

struct LinearOutput {
  const WeightMatrix* weight = nullptr;
  const float* bias = nullptr;  // may be null
  float* y = nullptr;           // [m, weight->rows]
  const float* x = nullptr;     // [m, weight->cols]: this layer's own input; null: the call's `x`
};

// Every weight reading the shared input must have the same number of columns
// (the input width); `x` may be null when every output has its own.
void matmul_multi(const float* x, int64_t m, std::span<const LinearOutput> outputs, ThreadPool& pool);

// The same for m independent input rows, such as the next tokens of m
// sequences decoded together: every row's outputs are bit-identical to
// matmul_multi(x_i, 1, ...) of that row alone, whatever else is in the batch
// (batch invariance), while each weight is read from memory once for all
// rows. Q8/Q4 kernels agree for any m already; float weights run the decode
// GEMV per row over each slice of weight rows while the slice is in cache
// (the float GEMM sums in another order, so it would not agree).
void matmul_multi_rowwise(const float* x, int64_t m, std::span<const LinearOutput> outputs, ThreadPool& pool);

}  // namespace qwen3vl
