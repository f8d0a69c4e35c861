// Internal: AVX-512 versions of the elementwise kernels (elementwise.cpp
// dispatches; call only when active_isa_level() says Avx512). Same formulas
// as the scalar ones; sums are accumulated 16 lanes wide, and exponentials
// come from a ~1-ulp polynomial instead of libm.
#pragma once
#include <cstdint>

namespace qwen3vl::kernels {

void rms_norm_avx512(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y);
void layer_norm_avx512(const float* x, const float* weight, const float* bias, float eps, int64_t rows,
                       int64_t dim, float* y);
void silu_mul_avx512(const float* gate, const float* up, int64_t n, float* out);
void gelu_tanh_avx512(float* x, int64_t n);
void add_avx512(float* y, const float* x, int64_t n);

}  // namespace qwen3vl::kernels
