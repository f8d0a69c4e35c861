// Internal: the elementwise kernels written once over the vector width (V:
// simd_avx2.h / simd_avx512.h), instantiated by elementwise_avx2.cpp and
// elementwise_avx512.cpp. Same formulas as the scalar kernels in
// elementwise.cpp; sums are accumulated kLanes wide, and exponentials come
// from a ~1-ulp polynomial instead of libm.
#pragma once
#include <cmath>
#include <cstdint>

#include "qwen3vl/kernels/elementwise_kernels.h"
#include "qwen3vl/kernels/simd_math.h"

namespace qwen3vl::kernels::simd {

// Calls f(i, count) for every vector of [0, n): full vectors (count ==
// kLanes) then the partial last one.
template <class V, class Fn>
inline void for_vectors(int64_t n, Fn&& f) {
  constexpr int L = V::kLanes;
  int64_t i = 0;
  for (; i + L <= n; i += L) f(i, int64_t{L});
  if (i < n) f(i, n - i);
}

template <class V>
inline typename V::F load_n(const float* p, int64_t count) {
  return count == V::kLanes ? V::load(p) : V::load_first(p, count);
}

template <class V>
inline void store_n(float* p, typename V::F v, int64_t count) {
  if (count == V::kLanes) V::store(p, v);
  else V::store_first(p, v, count);
}

template <class V>
void rms_norm(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y) {
  using F = typename V::F;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    F ss = V::zero();
    for_vectors<V>(dim, [&](int64_t i, int64_t n) {
      const F v = load_n<V>(xr + i, n);
      ss = V::fmadd(v, v, ss);
    });
    const F inv = V::set1(1.0f / std::sqrt(V::reduce_add(ss) / static_cast<float>(dim) + eps));
    for_vectors<V>(dim, [&](int64_t i, int64_t n) {
      store_n<V>(yr + i, V::mul(load_n<V>(weight + i, n), V::mul(load_n<V>(xr + i, n), inv)), n);
    });
  }
}

template <class V>
void layer_norm(const float* x, const float* weight, const float* bias, float eps, int64_t rows, int64_t dim,
                float* y) {
  using F = typename V::F;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    F s = V::zero();
    for_vectors<V>(dim, [&](int64_t i, int64_t n) { s = V::add(s, load_n<V>(xr + i, n)); });
    const float mean = V::reduce_add(s) / static_cast<float>(dim);
    const F mv = V::set1(mean);
    // Two passes (mean, then squared deviations) as the scalar kernel: no
    // cancellation for rows with a large mean. Lanes past the row are zero
    // after the subtraction too (load_first zeroes them, keep_first clears
    // their -mean).
    F var = V::zero();
    for_vectors<V>(dim, [&](int64_t i, int64_t n) {
      F d = V::sub(load_n<V>(xr + i, n), mv);
      if (n < V::kLanes) d = V::keep_first(d, n, 0.0f);
      var = V::fmadd(d, d, var);
    });
    const F inv = V::set1(1.0f / std::sqrt(V::reduce_add(var) / static_cast<float>(dim) + eps));
    for_vectors<V>(dim, [&](int64_t i, int64_t n) {
      const F d = V::mul(V::sub(load_n<V>(xr + i, n), mv), inv);
      F out = V::mul(d, load_n<V>(weight + i, n));
      if (bias) out = V::add(out, load_n<V>(bias + i, n));
      store_n<V>(yr + i, out, n);
    });
  }
}

template <class V>
void silu_mul(const float* gate, const float* up, int64_t n, float* out) {
  using F = typename V::F;
  const F one = V::set1(1.0f);
  for_vectors<V>(n, [&](int64_t i, int64_t c) {
    const F g = load_n<V>(gate + i, c);
    const F s = V::div(g, V::add(one, exp<V>(V::sub(V::zero(), g))));
    store_n<V>(out + i, V::mul(s, load_n<V>(up + i, c)), c);
  });
}

// 0.5·v·(1 + tanh(u)) = v / (1 + e^(-2u)) with u = √(2/π)(v + 0.044715 v³):
// the same function without the cancellation of 1 + tanh for negative v.
template <class V>
void gelu_tanh(float* x, int64_t n) {
  using F = typename V::F;
  const F one = V::set1(1.0f);
  const F minus_two_k = V::set1(-2.0f * 0.7978845608028654f);
  const F c = V::set1(0.044715f);
  for_vectors<V>(n, [&](int64_t i, int64_t count) {
    const F v = load_n<V>(x + i, count);
    const F inner = V::fmadd(V::mul(c, v), V::mul(v, v), v);
    const F e = exp<V>(V::mul(minus_two_k, inner));
    store_n<V>(x + i, V::div(v, V::add(one, e)), count);
  });
}

template <class V>
void add(float* y, const float* x, int64_t n) {
  for_vectors<V>(n, [&](int64_t i, int64_t c) { store_n<V>(y + i, V::add(load_n<V>(y + i, c), load_n<V>(x + i, c)), c); });
}

template <class V>
ElementwiseKernels elementwise_kernels_for() {
  ElementwiseKernels k;
  k.rms_norm = rms_norm<V>;
  k.layer_norm = layer_norm<V>;
  k.silu_mul = silu_mul<V>;
  k.gelu_tanh = gelu_tanh<V>;
  k.add = add<V>;
  return k;
}

}  // namespace qwen3vl::kernels::simd
