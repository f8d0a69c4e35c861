// Linear layers: Y[m, rows] = X[m, cols] · Wᵀ (+ bias[rows]). One entry point
// for every weight format; it picks the fastest kernel this CPU supports and
// splits the work over the thread pool. `m` is 1 for decode (a GEMV, memory
// bound) and the number of tokens or patches for prefill/vision (compute bound).
//
// F32/BF16/F16 weights: exact float32 products and float32 accumulation (only
// the summation order differs from matmul_reference). Q8/Q4 weights: the
// activations are quantized to int8 per block of 32 once per call and the
// products are integer (see kernels/quant.h; bit-identical on every ISA to
// quantized_matmul_reference). The ISA is chosen at run time
// (kernels/cpu_features.h; QWEN3VL_ISA=scalar|avx2|avx512 caps it); output
// rows are split over the pool.
#pragma once
#include <cstdint>
#include <span>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

void matmul(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y, ThreadPool& pool);

// The plain scalar reference the float kernels are tested against (float32
// accumulation in input order, single thread). For Q8/Q4 it uses the
// dequantized weights with unquantized activations (the "ideal" result the
// quantized kernels approximate).
void matmul_reference(const float* x, int64_t m, const WeightMatrix& w, const float* bias, float* y);

// The first `rows_out` output features only: Y[m, rows_out] (e.g. the logits
// of a vocabulary's leading tokens). Plain formats read just those weight
// rows; the tiled Q8/Q4 layout is computed whole and its prefix kept. Each
// value equals the one matmul gives for that row; with rows_alone, the one
// each input row gives computed alone (matmul_multi_rowwise: batch invariance).
void matmul_leading_rows(const float* x, int64_t m, const WeightMatrix& w, int64_t rows_out, float* y,
                         ThreadPool& pool, bool rows_alone = false);

// Widens one row of any format to float32 (used for embedding lookups);
// Q8/Q4 rows are dequantized.
void weight_row_to_f32(const WeightMatrix& w, int64_t row, float* out);
// Row rows[i] of w into out + i * w.cols, for every i (an embedding lookup;
// every id must be in [0, w.rows)), split over the pool for long inputs.
void weight_rows_to_f32(const WeightMatrix& w, std::span<const int32_t> rows, float* out, ThreadPool& pool);

}  // namespace qwen3vl
