// AVX-512 elementwise kernels. Compiled with AVX-512 flags: call only after
// active_isa_level() says Avx512 (see elementwise.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>

#include "qwen3vl/kernels/elementwise_kernels.h"
#include "qwen3vl/kernels/vector_exp_avx512.h"

namespace qwen3vl::kernels {

namespace {

inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << left) - 1);
}

// Applies f to every 16-float chunk of [0, n) (the last one masked).
template <class F>
inline void for_chunks(int64_t n, F&& f) {
  for (int64_t i = 0; i < n; i += 16) f(i, tail_mask(n - i));
}

}  // namespace

void rms_norm_avx512(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    __m512 ss = _mm512_setzero_ps();
    for_chunks(dim, [&](int64_t i, __mmask16 m) {
      const __m512 v = _mm512_maskz_loadu_ps(m, xr + i);
      ss = _mm512_fmadd_ps(v, v, ss);
    });
    const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(ss) / static_cast<float>(dim) + eps);
    const __m512 iv = _mm512_set1_ps(inv);
    for_chunks(dim, [&](int64_t i, __mmask16 m) {
      const __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xr + i), iv);
      _mm512_mask_storeu_ps(yr + i, m, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, weight + i), v));
    });
  }
}

void layer_norm_avx512(const float* x, const float* weight, const float* bias, float eps, int64_t rows,
                       int64_t dim, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    __m512 s = _mm512_setzero_ps();
    for_chunks(dim, [&](int64_t i, __mmask16 m) { s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, xr + i)); });
    const float mean = _mm512_reduce_add_ps(s) / static_cast<float>(dim);
    const __m512 mv = _mm512_set1_ps(mean);
    // Two passes (mean, then squared deviations) as the scalar kernel: no
    // cancellation for rows with a large mean.
    __m512 var = _mm512_setzero_ps();
    for_chunks(dim, [&](int64_t i, __mmask16 m) {
      const __m512 d = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, xr + i), mv);
      var = _mm512_fmadd_ps(d, d, var);
    });
    const float inv = 1.0f / std::sqrt(_mm512_reduce_add_ps(var) / static_cast<float>(dim) + eps);
    const __m512 iv = _mm512_set1_ps(inv);
    for_chunks(dim, [&](int64_t i, __mmask16 m) {
      const __m512 d = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, xr + i), mv), iv);
      __m512 out = _mm512_mul_ps(d, _mm512_maskz_loadu_ps(m, weight + i));
      if (bias) out = _mm512_add_ps(out, _mm512_maskz_loadu_ps(m, bias + i));
      _mm512_mask_storeu_ps(yr + i, m, out);
    });
  }
}

void silu_mul_avx512(const float* gate, const float* up, int64_t n, float* out) {
  const __m512 one = _mm512_set1_ps(1.0f);
  for_chunks(n, [&](int64_t i, __mmask16 m) {
    const __m512 g = _mm512_maskz_loadu_ps(m, gate + i);
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_setzero_ps(), g));
    const __m512 s = _mm512_div_ps(g, _mm512_add_ps(one, e));
    _mm512_mask_storeu_ps(out + i, m, _mm512_mul_ps(s, _mm512_maskz_loadu_ps(m, up + i)));
  });
}

// 0.5·v·(1 + tanh(u)) = v / (1 + e^(-2u)) with u = √(2/π)(v + 0.044715 v³):
// the same function without the cancellation of 1 + tanh for negative v.
void gelu_tanh_avx512(float* x, int64_t n) {
  const __m512 one = _mm512_set1_ps(1.0f);
  const __m512 minus_two_k = _mm512_set1_ps(-2.0f * 0.7978845608028654f);
  const __m512 c = _mm512_set1_ps(0.044715f);
  for_chunks(n, [&](int64_t i, __mmask16 m) {
    const __m512 v = _mm512_maskz_loadu_ps(m, x + i);
    const __m512 inner = _mm512_fmadd_ps(_mm512_mul_ps(c, v), _mm512_mul_ps(v, v), v);
    const __m512 e = exp_ps(_mm512_mul_ps(minus_two_k, inner));
    _mm512_mask_storeu_ps(x + i, m, _mm512_div_ps(v, _mm512_add_ps(one, e)));
  });
}

void add_avx512(float* y, const float* x, int64_t n) {
  for_chunks(n, [&](int64_t i, __mmask16 m) {
    _mm512_mask_storeu_ps(y + i, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, y + i), _mm512_maskz_loadu_ps(m, x + i)));
  });
}

}  // namespace qwen3vl::kernels
