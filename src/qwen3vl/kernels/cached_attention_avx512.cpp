// AVX-512 decode attention over a compact KV cache (see cached_attention.h).
// Compiled with AVX-512 flags: called only when active_isa_level() is Avx512.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/kernels/vector_exp_avx512.h"

namespace qwen3vl::kernels {

namespace {

template <KVElement E>
constexpr int element_bytes() {
  return E == KVElement::F32 ? 4 : E == KVElement::Q8 ? 1 : 2;
}

// 16 consecutive elements of row j from column col, as float32.
template <KVElement E>
inline __m512 widen16(const KVRows& r, int64_t j, int64_t col) {
  const int64_t at = j * r.row_stride + col;
  if constexpr (E == KVElement::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(r.data) + at);
  } else if constexpr (E == KVElement::F16) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(r.data) + at)));
  } else if constexpr (E == KVElement::BF16) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(r.data) + at));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  } else {
    const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const int8_t*>(r.data) + at));
    const float sc = r.scales[j * (r.row_stride / r.group) + col / r.group];
    return _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(b)), _mm512_set1_ps(sc));
  }
}

// Asks for row j's head slice ahead of use (rows are strided by the whole
// cache row, which the hardware prefetcher follows less eagerly).
template <KVElement E>
inline void prefetch_row(const KVRows& r, int64_t j, int64_t col, int hd) {
  const char* p = static_cast<const char*>(r.data) + (j * r.row_stride + col) * element_bytes<E>();
  for (int off = 0; off < hd * element_bytes<E>(); off += 64) _mm_prefetch(p + off, _MM_HINT_T0);
}

constexpr int64_t kPrefetchRows = 6;

// e^x for the softmax (x <= 0 here, after subtracting the maximum): degree 6
// (truncation error < 1.3e-7 relative, about one float ulp).
inline __m512 softmax_exp_ps(__m512 x) { return exp_taylor_ps<6, false>(x); }

// In place: s[j] = e^(s[j] - max s); returns Σ s[j].
inline float exp_and_sum(float* s, int64_t n) {
  __m512 mx = _mm512_set1_ps(-INFINITY);
  int64_t j = 0;
  for (; j + 16 <= n; j += 16) mx = _mm512_max_ps(mx, _mm512_loadu_ps(s + j));
  const __mmask16 tail = static_cast<__mmask16>((1u << (n - j)) - 1);
  mx = _mm512_mask_max_ps(mx, tail, mx, _mm512_maskz_loadu_ps(tail, s + j));
  const __m512 vmax = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  __m512 sum = _mm512_setzero_ps();
  for (j = 0; j + 16 <= n; j += 16) {
    const __m512 e = softmax_exp_ps(_mm512_sub_ps(_mm512_loadu_ps(s + j), vmax));
    _mm512_storeu_ps(s + j, e);
    sum = _mm512_add_ps(sum, e);
  }
  if (j < n) {
    const __m512 e = softmax_exp_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(tail, s + j), vmax));
    _mm512_mask_storeu_ps(s + j, tail, e);
    sum = _mm512_add_ps(sum, _mm512_maskz_mov_ps(tail, e));
  }
  return _mm512_reduce_add_ps(sum);
}

// CH = head_dim / 16 chunks (0: read from s.head_dim at run time).
template <KVElement E, int CH>
void item(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, int kvh, int64_t i,
          float* out, std::vector<float>& scores) {
  const int chunks = CH > 0 ? CH : s.head_dim / 16;
  constexpr int kMax = CH > 0 ? CH : 16;
  const int group = s.n_heads / s.n_kv_heads;
  const int hd = s.head_dim;
  const int64_t visible = s.q_offset + i + 1;
  const int64_t col0 = static_cast<int64_t>(kvh) * hd;
  scores.resize(static_cast<size_t>(group * visible));
  const float* q_heads = q + i * s.q_stride + static_cast<int64_t>(kvh) * group * hd;

  // Scores: each key row widened once, dotted with every query head of the group.
  for (int64_t j = 0; j < visible; ++j) {
    if (j + kPrefetchRows < visible) prefetch_row<E>(k, j + kPrefetchRows, col0, hd);
    __m512 kr[kMax];
    for (int c = 0; c < chunks; ++c) kr[c] = widen16<E>(k, j, col0 + 16 * c);
    for (int g = 0; g < group; ++g) {
      const float* qh = q_heads + g * hd;
      __m512 acc0 = _mm512_setzero_ps(), acc1 = _mm512_setzero_ps();
      int c = 0;
      for (; c + 2 <= chunks; c += 2) {
        acc0 = _mm512_fmadd_ps(kr[c], _mm512_loadu_ps(qh + 16 * c), acc0);
        acc1 = _mm512_fmadd_ps(kr[c + 1], _mm512_loadu_ps(qh + 16 * c + 16), acc1);
      }
      if (c < chunks) acc0 = _mm512_fmadd_ps(kr[c], _mm512_loadu_ps(qh + 16 * c), acc0);
      scores[g * visible + j] = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1)) * s.scale;
    }
  }

  // Softmax per query head, then the weighted sum of value rows: two heads
  // per pass when the head size is known, so each value row is widened once
  // for both.
  float sums[256];
  for (int g = 0; g < group; ++g) sums[g] = exp_and_sum(scores.data() + g * visible, visible);
  int g = 0;
  if constexpr (CH > 0) {
    for (; g + 2 <= group; g += 2) {
      const float* s0 = scores.data() + g * visible;
      const float* s1 = s0 + visible;
      __m512 acc0[CH], acc1[CH];
      for (int c = 0; c < CH; ++c) acc0[c] = acc1[c] = _mm512_setzero_ps();
      for (int64_t j = 0; j < visible; ++j) {
        if (g == 0 && j + kPrefetchRows < visible) prefetch_row<E>(v, j + kPrefetchRows, col0, hd);
        const __m512 p0 = _mm512_set1_ps(s0[j]), p1 = _mm512_set1_ps(s1[j]);
        for (int c = 0; c < CH; ++c) {
          const __m512 vv = widen16<E>(v, j, col0 + 16 * c);
          acc0[c] = _mm512_fmadd_ps(p0, vv, acc0[c]);
          acc1[c] = _mm512_fmadd_ps(p1, vv, acc1[c]);
        }
      }
      const __m512 inv0 = _mm512_set1_ps(1.0f / sums[g]), inv1 = _mm512_set1_ps(1.0f / sums[g + 1]);
      float* o0 = out + i * s.out_stride + static_cast<int64_t>(kvh * group + g) * hd;
      for (int c = 0; c < CH; ++c) {
        _mm512_storeu_ps(o0 + 16 * c, _mm512_mul_ps(acc0[c], inv0));
        _mm512_storeu_ps(o0 + hd + 16 * c, _mm512_mul_ps(acc1[c], inv1));
      }
    }
  }
  for (; g < group; ++g) {
    float* sg = scores.data() + g * visible;
    const float sum = sums[g];
    __m512 acc[kMax];
    for (int c = 0; c < chunks; ++c) acc[c] = _mm512_setzero_ps();
    for (int64_t j = 0; j < visible; ++j) {
      if (g == 0 && j + kPrefetchRows < visible) prefetch_row<E>(v, j + kPrefetchRows, col0, hd);
      const __m512 p = _mm512_set1_ps(sg[j]);
      for (int c = 0; c < chunks; ++c) acc[c] = _mm512_fmadd_ps(p, widen16<E>(v, j, col0 + 16 * c), acc[c]);
    }
    const __m512 inv = _mm512_set1_ps(1.0f / sum);
    float* o = out + i * s.out_stride + static_cast<int64_t>(kvh * group + g) * hd;
    for (int c = 0; c < chunks; ++c) _mm512_storeu_ps(o + 16 * c, _mm512_mul_ps(acc[c], inv));
  }
}

template <KVElement E>
bool item_for_dim(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, int kvh,
                  int64_t i, float* out, std::vector<float>& scores) {
  switch (s.head_dim) {
    case 64: item<E, 4>(q, k, v, s, kvh, i, out, scores); return true;
    case 128: item<E, 8>(q, k, v, s, kvh, i, out, scores); return true;
    default: item<E, 0>(q, k, v, s, kvh, i, out, scores); return true;
  }
}

}  // namespace

// False when this shape is not handled here (the caller falls back to scalar).
bool cached_attention_item_avx512(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s,
                                  int kv_head, int64_t row, float* out, std::vector<float>& scores) {
  if (s.head_dim % 16 != 0 || s.head_dim > 256 || k.type != v.type) return false;
  if (s.n_heads / s.n_kv_heads > 256) return false;  // per-head sums live in a fixed array
  if (k.type == KVElement::Q8 && (k.group % 16 != 0 || v.group % 16 != 0)) return false;
  switch (k.type) {
    case KVElement::F32: return item_for_dim<KVElement::F32>(q, k, v, s, kv_head, row, out, scores);
    case KVElement::F16: return item_for_dim<KVElement::F16>(q, k, v, s, kv_head, row, out, scores);
    case KVElement::BF16: return item_for_dim<KVElement::BF16>(q, k, v, s, kv_head, row, out, scores);
    case KVElement::Q8: return item_for_dim<KVElement::Q8>(q, k, v, s, kv_head, row, out, scores);
  }
  return false;
}

}  // namespace qwen3vl::kernels
