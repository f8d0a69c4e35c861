// Linear layers: Y[m, rows] = X[m, cols] · Wᵀ (+ bias[rows]). One entry point
// for every weight format; it picks the fastest kernel this CPU supports and
// splits the work over the thread pool. `m` is 1 for decode (a GEMV, memory
// bound) and the number of tokens or patches for prefill/vision (compute bound).
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y,
            ThreadPool& pool = ThreadPool::global());

// The plain scalar reference every fast kernel is tested against (float32
// accumulation in input order, single thread).
void matmul_reference(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y);

// Widens one row of any format to float32 (used for embedding lookups).
void weight_row_to_f32(const WeightMatrix& w, int64_t row, float* out);

}  // namespace qwen3vl
