// Internal, AVX-512 only (include from *_avx512.cpp files): e^x for 16 floats
// to ~1 ulp, shared by the attention and elementwise kernels.
#pragma once
#include <immintrin.h>

#include <array>

namespace qwen3vl::kernels {

// e^x for 16 floats: x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two parts
// so r keeps full precision), e^r by its Taylor polynomial of degree `Degree`,
// then scaled by 2^n with vscalefps, which also underflows cleanly to 0 for
// very negative x (including -inf). ClampHigh keeps x above ~88.7 finite.
template <int Degree, bool ClampHigh>
inline __m512 exp_taylor_ps(__m512 x) {
  x = _mm512_max_ps(x, _mm512_set1_ps(-104.0f));
  if constexpr (ClampHigh) x = _mm512_min_ps(x, _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  // Horner over 1/k!, k = Degree .. 0 (coefficients fixed at compile time).
  constexpr std::array<float, Degree + 1> c = [] {
    std::array<float, Degree + 1> a{};
    float factorial = 1.0f;
    for (int k = 0; k <= Degree; ++k) {
      if (k > 1) factorial *= static_cast<float>(k);
      a[k] = 1.0f / factorial;
    }
    return a;
  }();
  __m512 p = _mm512_set1_ps(c[Degree]);
  for (int k = Degree - 1; k >= 0; --k) p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(c[k]));
  return _mm512_scalef_ps(p, n);
}

// To ~1 ulp: degree 7 (truncation < 1e-8 relative).
inline __m512 exp_ps(__m512 x) { return exp_taylor_ps<7, true>(x); }

// e^x for x <= 0 (softmax weights: score minus the running max), for results
// that are rounded to bf16 next (8 significant bits, 2^-9 relative): the
// degree-5 polynomial truncates at < 3e-6 relative, far below that rounding,
// with two fewer FMAs and no upper clamp.
inline __m512 exp_nonpositive_ps_for_bf16(__m512 x) { return exp_taylor_ps<5, false>(x); }

}  // namespace qwen3vl::kernels
