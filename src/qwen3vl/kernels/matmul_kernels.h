// Internal: the per-ISA matmul kernels behind matmul() and matmul_multi().
// Each ISA file (matmul_avx2.cpp, matmul_avx512.cpp) instantiates the one
// width-generic implementation (matmul_simd.h) and exports it as a table;
// matmul_kernels_for(isa) picks the table, null for the scalar level. Each
// kernel computes a slice of the output rows for all input rows, without
// bias; y is [m, w.rows].
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

struct MatmulKernels {
  const char* name = "";
  // F32 / BF16 / F16 weights, output rows [n0, n1), m > 1 input rows: packs
  // panels of widened weights and runs a register-tiled microkernel. Exact
  // float32 products, float32 accumulation.
  void (*float_gemm)(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) = nullptr;
  // The same for one input row (decode): streams the weight rows once.
  void (*float_gemv)(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) = nullptr;
  // Q8 / Q4 weights, row tiles [tile0, tile1) (16 rows each, see quant.h),
  // every row of `a` / row 0 of `a` (decode). Bit-identical to
  // quantized_matmul_tiles_scalar.
  void (*quant_gemm)(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                     float* y) = nullptr;
  void (*quant_gemv)(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                     float* y) = nullptr;
  // Quantizes activation rows [i0, i1) of x[., cols] into `out` (already
  // sized by quantize_activations): identical to the scalar loop.
  void (*quantize_activation_rows)(const float* x, int64_t cols, int64_t i0, int64_t i1,
                                   QuantizedActivations& out) = nullptr;
};

const MatmulKernels& matmul_kernels_avx2();
const MatmulKernels& matmul_kernels_avx512();

// The table for `isa`, or null for IsaLevel::Scalar (the portable loops in
// matmul.cpp / quant.cpp). Call only with a level active_isa_level() allows.
inline const MatmulKernels* matmul_kernels_for(IsaLevel isa) {
  return kernels_for_isa(isa, matmul_kernels_avx2, matmul_kernels_avx512);
}

// Width of the weight panels the float GEMM packs at most (output rows per
// panel): thread slices are multiples of it.
constexpr int64_t kFloatPanelRows = 32;

}  // namespace qwen3vl::kernels
