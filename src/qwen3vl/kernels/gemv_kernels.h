// Internal: single-input-row (decode GEMV) kernels behind matmul_multi() and
// matmul() with m == 1. Each streams its slice of the weight rows once; the
// input (or its int8 quantization) stays in L1. Call an ISA's kernels only
// when active_isa_level() allows it: their files are compiled for that ISA.
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

// F32 / BF16 / F16 weights, output rows [n0, n1) of y (no bias). Float32
// products and accumulation, as matmul() documents.
void float_gemv_avx512(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y);

// Q8 / Q4 weights, row tiles [tile0, tile1), activation row 0 of `a`.
// Bit-identical to quantized_matmul_tiles_scalar.
void quant_gemv_avx512(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                       float* y);

// quantize_activations() for a single row, bit-identical to it (the same
// float operations per element; only max and sum are computed across lanes,
// and both are exact).
void quantize_row_avx512(const float* x, int64_t cols, QuantizedActivations& out);

}  // namespace qwen3vl::kernels
