// Internal: decode attention over a compact KV cache (see
// cached_attention.h) written once over the vector width (V: simd_avx2.h /
// simd_avx512.h), instantiated by cached_attention_avx2.cpp and
// cached_attention_avx512.cpp.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/kernels/cached_attention_kernels.h"
#include "qwen3vl/kernels/compile_time_count.h"
#include "qwen3vl/kernels/simd_math.h"

namespace qwen3vl::kernels::simd {

template <KVElement E>
constexpr int kv_element_bytes() {
  return E == KVElement::F32 ? 4 : E == KVElement::Q8 ? 1 : 2;
}

// kLanes consecutive elements of row j from column col, as float32 (Q8:
// one scale covers the vector; the caller checks group % kLanes == 0).
template <class V, KVElement E>
inline typename V::F widen(const KVRows& r, int64_t j, int64_t col) {
  const int64_t at = j * r.row_stride + col;
  if constexpr (E == KVElement::F32) {
    return V::load(static_cast<const float*>(r.data) + at);
  } else if constexpr (E == KVElement::F16) {
    return V::load_f16(static_cast<const uint16_t*>(r.data) + at);
  } else if constexpr (E == KVElement::BF16) {
    return V::load_bf16(static_cast<const uint16_t*>(r.data) + at);
  } else {
    const float sc = r.scales[j * (r.row_stride / r.group) + col / r.group];
    return V::mul(V::load_i8(static_cast<const int8_t*>(r.data) + at), V::set1(sc));
  }
}

// Asks for row j's head slice ahead of use (rows are strided by the whole
// cache row, which the hardware prefetcher follows less eagerly).
template <class V, KVElement E>
inline void prefetch_row(const KVRows& r, int64_t j, int64_t col, int hd) {
  const char* p = static_cast<const char*>(r.data) + (j * r.row_stride + col) * kv_element_bytes<E>();
  for (int off = 0; off < hd * kv_element_bytes<E>(); off += 64) V::prefetch(p + off);
}

constexpr int64_t kPrefetchRows = 6;

// In place: s[j] = e^(s[j] - max s); returns Σ s[j]. The exponential is the
// degree-6 polynomial (x <= 0 here; truncation < 1.3e-7 relative, about one
// float ulp).
template <class V>
inline float exp_and_sum(float* s, int64_t n) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  F mx = V::set1(-INFINITY);
  int64_t j = 0;
  for (; j + L <= n; j += L) mx = V::max(mx, V::load(s + j));
  if (j < n) mx = V::max(mx, V::keep_first(V::load_first(s + j, n - j), n - j, -INFINITY));
  const F vmax = V::set1(V::reduce_max(mx));
  F sum = V::zero();
  for (j = 0; j + L <= n; j += L) {
    const F e = exp_taylor<V, 6, false>(V::sub(V::load(s + j), vmax));
    V::store(s + j, e);
    sum = V::add(sum, e);
  }
  if (j < n) {
    const F e = V::keep_first(exp_taylor<V, 6, false>(V::sub(V::load_first(s + j, n - j), vmax)), n - j, 0.0f);
    V::store_first(s + j, e, n - j);
    sum = V::add(sum, e);
  }
  return V::reduce_add(sum);
}

// Value rows weighted by H heads' softmax weights, for one block of BV
// vectors of the head (columns d0 .. d0 + BV·kLanes): each value vector is
// widened once for all H heads.
template <class V, KVElement E, int H, int BV>
inline void weighted_values(const KVRows& v, const float* const weights[H], const float inv_sums[H], int64_t visible,
                            int64_t col0, int d0, int hd, bool prefetch, float* const out[H]) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  F acc[H][BV];
  for (int h = 0; h < H; ++h)
    for (int c = 0; c < BV; ++c) acc[h][c] = V::zero();
  for (int64_t j = 0; j < visible; ++j) {
    if (prefetch && j + kPrefetchRows < visible) prefetch_row<V, E>(v, j + kPrefetchRows, col0, hd);
    F p[H];
    for (int h = 0; h < H; ++h) p[h] = V::set1(weights[h][j]);
    for (int c = 0; c < BV; ++c) {
      const F vv = widen<V, E>(v, j, col0 + d0 + c * L);
      for (int h = 0; h < H; ++h) acc[h][c] = V::fmadd(p[h], vv, acc[h][c]);
    }
  }
  for (int h = 0; h < H; ++h) {
    const F inv = V::set1(inv_sums[h]);
    for (int c = 0; c < BV; ++c) V::store(out[h] + d0 + c * L, V::mul(acc[h][c], inv));
  }
}

// One (kv head, query row) item: every query head sharing the kv head.
template <class V, KVElement E>
void item(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, int kvh, int64_t i,
          float* out, std::vector<float>& scores) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int kMaxChunks = kCachedAttentionMaxHeadDim / L;
  // Value pass: 2 heads × kBlockVecs accumulators take half the registers.
  constexpr int kHeads = 2;
  constexpr int kBlockVecs = V::kRegisters / 2 / kHeads;
  const int chunks = s.head_dim / L;
  const int group = s.n_heads / s.n_kv_heads;
  const int hd = s.head_dim;
  const int64_t visible = s.q_offset + i + 1;
  const int64_t col0 = static_cast<int64_t>(kvh) * hd;
  scores.resize(static_cast<size_t>(group * visible));
  const float* q_heads = q + i * s.q_stride + static_cast<int64_t>(kvh) * group * hd;

  // Scores: each key row widened once, dotted with every query head of the group.
  for (int64_t j = 0; j < visible; ++j) {
    if (j + kPrefetchRows < visible) prefetch_row<V, E>(k, j + kPrefetchRows, col0, hd);
    F kr[kMaxChunks];
    for (int c = 0; c < chunks; ++c) kr[c] = widen<V, E>(k, j, col0 + c * L);
    for (int g = 0; g < group; ++g) {
      const float* qh = q_heads + g * hd;
      F acc0 = V::zero(), acc1 = V::zero();
      int c = 0;
      for (; c + 2 <= chunks; c += 2) {
        acc0 = V::fmadd(kr[c], V::load(qh + c * L), acc0);
        acc1 = V::fmadd(kr[c + 1], V::load(qh + c * L + L), acc1);
      }
      if (c < chunks) acc0 = V::fmadd(kr[c], V::load(qh + c * L), acc0);
      scores[g * visible + j] = V::reduce_add(V::add(acc0, acc1)) * s.scale;
    }
  }

  // Softmax per query head, then the weighted sum of value rows, two heads
  // per pass so each value vector is widened once for both.
  thread_local std::vector<float> sums;
  sums.resize(static_cast<size_t>(group));
  for (int g = 0; g < group; ++g) sums[g] = 1.0f / exp_and_sum<V>(scores.data() + g * visible, visible);
  for (int g = 0; g < group; g += kHeads) {
    const int heads = std::min(kHeads, group - g);
    const float* weights[kHeads];
    float* outs[kHeads];
    float inv[kHeads];
    for (int h = 0; h < heads; ++h) {
      weights[h] = scores.data() + (g + h) * visible;
      outs[h] = out + i * s.out_stride + static_cast<int64_t>(kvh * group + g + h) * hd;
      inv[h] = sums[g + h];
    }
    for (int c0 = 0; c0 < chunks; c0 += kBlockVecs) {
      const bool prefetch = g == 0 && c0 == 0;
      const int d0 = c0 * L;
      auto block = [&](auto vecs) {
        if (heads == 2) weighted_values<V, E, 2, vecs()>(v, weights, inv, visible, col0, d0, hd, prefetch, outs);
        else weighted_values<V, E, 1, vecs()>(v, weights, inv, visible, col0, d0, hd, prefetch, outs);
      };
      with_count<kBlockVecs>(std::min(kBlockVecs, chunks - c0), block);
    }
  }
}

template <class V>
bool cached_attention_item(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s,
                           int kv_head, int64_t row, float* out, std::vector<float>& scores) {
  constexpr int L = V::kLanes;
  if (s.head_dim % L != 0 || s.head_dim > kCachedAttentionMaxHeadDim || k.type != v.type) return false;
  if (k.type == KVElement::Q8 && (k.group % L != 0 || v.group % L != 0)) return false;
  switch (k.type) {
    case KVElement::F32: item<V, KVElement::F32>(q, k, v, s, kv_head, row, out, scores); return true;
    case KVElement::F16: item<V, KVElement::F16>(q, k, v, s, kv_head, row, out, scores); return true;
    case KVElement::BF16: item<V, KVElement::BF16>(q, k, v, s, kv_head, row, out, scores); return true;
    case KVElement::Q8: item<V, KVElement::Q8>(q, k, v, s, kv_head, row, out, scores); return true;
  }
  return false;
}

}  // namespace qwen3vl::kernels::simd
