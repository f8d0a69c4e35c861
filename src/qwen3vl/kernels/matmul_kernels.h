// Internal: the per-ISA matmul kernels behind matmul() (kernels/matmul.cpp
// dispatches). Each computes a slice of the output columns for all m rows,
// without bias; y is [m, w.rows]. Call an ISA's kernels only when
// active_isa_level() allows it: their files are compiled for that ISA.
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

// F32 / BF16 / F16 weights, output rows [n0, n1). m == 1 streams the weight
// rows (GEMV); m > 1 packs panels of widened weights and runs a register-tiled
// microkernel. Exact float32 products, float32 accumulation.
void float_matmul_avx512(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y);
void float_matmul_avx2(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y);

// Q8 / Q4 weights, row tiles [tile0, tile1) (16 rows each, see quant.h).
void quant_matmul_avx512(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                         float* y);
void quant_matmul_avx2(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                       float* y);

// Quantizes activation rows [i0, i1) of x[., cols] into `out` (already sized
// by quantize_activations): the same operations as the scalar loop, so the
// results are identical.
void quantize_activation_rows_avx512(const float* x, int64_t cols, int64_t i0, int64_t i1,
                                     QuantizedActivations& out);

// Width of the weight panels the float GEMM packs (output rows per panel):
// thread slices are multiples of it.
constexpr int64_t kFloatPanelRows = 32;

}  // namespace qwen3vl::kernels
