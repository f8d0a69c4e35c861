// Internal: the per-ISA elementwise kernels behind elementwise.h, written
// once in elementwise_simd.h and exported by elementwise_avx2.cpp and
// elementwise_avx512.cpp as a table; elementwise_kernels_for(isa) picks it
// (null for the scalar level: the loops in elementwise.cpp).
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/cpu_features.h"

namespace qwen3vl::kernels {

struct ElementwiseKernels {
  void (*rms_norm)(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y) = nullptr;
  void (*layer_norm)(const float* x, const float* weight, const float* bias, float eps, int64_t rows, int64_t dim,
                     float* y) = nullptr;
  void (*silu_mul)(const float* gate, const float* up, int64_t n, float* out) = nullptr;
  void (*gelu_tanh)(float* x, int64_t n) = nullptr;
  void (*add)(float* y, const float* x, int64_t n) = nullptr;
};

const ElementwiseKernels& elementwise_kernels_avx2();
const ElementwiseKernels& elementwise_kernels_avx512();

inline const ElementwiseKernels* elementwise_kernels_for(IsaLevel isa) {
  return kernels_for_isa(isa, elementwise_kernels_avx2, elementwise_kernels_avx512);
}

}  // namespace qwen3vl::kernels
