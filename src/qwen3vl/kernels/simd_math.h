// Internal: math functions written once over the vector width (V: the
// operation sets of simd_avx2.h / simd_avx512.h), shared by the attention,
// decode-attention and elementwise kernels. Include only from *_avx2.cpp /
// *_avx512.cpp files, after the simd header.
#pragma once
#include <array>

namespace qwen3vl::kernels::simd {

// e^x for a vector: x = n·ln2 + r with |r| <= ln2/2 (ln2 split in two parts
// so r keeps full precision), e^r by its Taylor polynomial of degree
// `Degree`, then scaled by 2^n, which also underflows cleanly to 0 for very
// negative x (including -inf). ClampHigh keeps x above ~88.7 finite; without
// it the caller guarantees x <= 88.7 (softmax weights: x <= 0).
template <class V, int Degree, bool ClampHigh>
inline typename V::F exp_taylor(typename V::F x) {
  using F = typename V::F;
  x = V::max(x, V::set1(-104.0f));
  if constexpr (ClampHigh) x = V::min(x, V::set1(88.7f));
  const F n = V::round_nearest(V::mul(x, V::set1(1.44269504088896341f)));
  F r = V::fnmadd(n, V::set1(0.693359375f), x);
  r = V::fnmadd(n, V::set1(-2.12194440e-4f), r);
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
  F p = V::set1(c[Degree]);
  for (int k = Degree - 1; k >= 0; --k) p = V::fmadd(p, r, V::set1(c[k]));
  return V::scale_pow2(p, n);
}

// To ~1 ulp: degree 7 (truncation < 1e-8 relative).
template <class V>
inline typename V::F exp(typename V::F x) {
  return exp_taylor<V, 7, true>(x);
}

}  // namespace qwen3vl::kernels::simd
