// AVX-512 blocked (flash-style) attention. Compiled with AVX-512 flags: call
// only after active_isa_level() says Avx512 (see attention.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cmath>
#include <vector>

#include "qwen3vl/kernels/attention_kernels.h"
#include "qwen3vl/kernels/transpose_avx512.h"
#include "qwen3vl/kernels/vector_exp_avx512.h"

namespace qwen3vl::kernels {

namespace {

constexpr int kBq = static_cast<int>(kAttentionQueryBlock);
constexpr int kBk = static_cast<int>(kAttentionKeyBlock);
// Query rows sharing each loaded key / value vector: 6 × 4 accumulators + 5
// fit the 32 registers; measured on the vision shape, 6 helps the bf16
// kernel (160 -> 185 GFLOP/s) but not the float one (4 is as fast or faster).
constexpr int kRows = 4;
constexpr int kRowsBf16 = 6;

// kt[d * kBk + j] = key row (j0 + j) at dimension d; keys past `count` are
// zero. 16×16 blocks go through registers (head_dim is a multiple of 16).
void transpose_keys(const float* k, int64_t kv_stride, int64_t j0, int count, int head_dim, float* kt) {
  __m512 block[16];
  for (int jb = 0; jb < kBk; jb += 16) {
    for (int d0 = 0; d0 < head_dim; d0 += 16) {
      for (int r = 0; r < 16; ++r)
        block[r] = jb + r < count ? _mm512_loadu_ps(k + (j0 + jb + r) * kv_stride + d0) : _mm512_setzero_ps();
      transpose16x16(block);
      for (int d = 0; d < 16; ++d) _mm512_storeu_ps(kt + (d0 + d) * kBk + jb, block[d]);
    }
  }
}

// scores[r][j] = q_r · k_j for R rows and the kBk keys of kt.
template <int R>
inline void score_tile(const float* qs, int head_dim, const float* kt, float* scores) {
  __m512 acc[R][kBk / 16];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kBk / 16; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int d = 0; d < head_dim; ++d) {
    __m512 kv[kBk / 16];
    for (int c = 0; c < kBk / 16; ++c) kv[c] = _mm512_loadu_ps(kt + d * kBk + 16 * c);
    for (int r = 0; r < R; ++r) {
      const __m512 qb = _mm512_set1_ps(qs[r * head_dim + d]);
      for (int c = 0; c < kBk / 16; ++c) acc[r][c] = _mm512_fmadd_ps(qb, kv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kBk / 16; ++c) _mm512_storeu_ps(scores + r * kBk + 16 * c, acc[r][c]);
}

// o_r += Σ_j p[r][j] · v_j for R rows, 16 output dims at a time (4 vectors per row).
template <int R>
inline void accumulate_values(const float* p, const float* v, int64_t kv_stride, int count, int head_dim,
                              float* o) {
  for (int d0 = 0; d0 < head_dim; d0 += 64) {
    const int width = std::min(64, head_dim - d0);
    const int vecs = width / 16;
    __m512 acc[R][4];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < 4; ++c) acc[r][c] = c < vecs ? _mm512_loadu_ps(o + r * head_dim + d0 + 16 * c) : _mm512_setzero_ps();
    for (int j = 0; j < count; ++j) {
      const float* vr = v + j * kv_stride + d0;
      if (vecs == 4) {
        const __m512 v0 = _mm512_loadu_ps(vr), v1 = _mm512_loadu_ps(vr + 16);
        const __m512 v2 = _mm512_loadu_ps(vr + 32), v3 = _mm512_loadu_ps(vr + 48);
        for (int r = 0; r < R; ++r) {
          const __m512 pb = _mm512_set1_ps(p[r * kBk + j]);
          acc[r][0] = _mm512_fmadd_ps(pb, v0, acc[r][0]);
          acc[r][1] = _mm512_fmadd_ps(pb, v1, acc[r][1]);
          acc[r][2] = _mm512_fmadd_ps(pb, v2, acc[r][2]);
          acc[r][3] = _mm512_fmadd_ps(pb, v3, acc[r][3]);
        }
      } else {
        for (int c = 0; c < vecs; ++c) {
          const __m512 vv = _mm512_loadu_ps(vr + 16 * c);
          for (int r = 0; r < R; ++r) acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(p[r * kBk + j]), vv, acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < vecs; ++c) _mm512_storeu_ps(o + r * head_dim + d0 + 16 * c, acc[r][c]);
  }
}

// Online-softmax state of the task's rows.
struct RowState {
  float max = -INFINITY;
  float sum = 0.0f;
};

// Masks one row's scores past its visible keys, updates its running max and
// sum, rescales its output, and leaves e^(score - max) in place.
inline void softmax_update(float* sr, int64_t j0, int count, int64_t visible, RowState& st, float* o,
                           int head_dim) {
  const int64_t seen = std::clamp<int64_t>(visible - j0, 0, count);
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int c = 0; c < kBk / 16; ++c) {
    const int64_t left = seen - 16 * c;
    const __mmask16 keep = left >= 16 ? 0xffff : left <= 0 ? 0 : static_cast<__mmask16>((1u << left) - 1);
    const __m512 sv = _mm512_mask_blend_ps(keep, _mm512_set1_ps(-INFINITY), _mm512_loadu_ps(sr + 16 * c));
    _mm512_storeu_ps(sr + 16 * c, sv);
    mx = _mm512_max_ps(mx, sv);
  }
  const float block_max = _mm512_reduce_max_ps(mx);
  const float new_max = std::max(st.max, block_max);
  // A row with nothing visible in this block keeps its state (exp(-inf) = 0 below).
  const float correction = st.max == new_max ? 1.0f : std::exp(st.max - new_max);
  const __m512 nm = _mm512_set1_ps(new_max == -INFINITY ? 0.0f : new_max);
  __m512 sum = _mm512_setzero_ps();
  for (int c = 0; c < kBk / 16; ++c) {
    const __m512 e = exp_ps(_mm512_sub_ps(_mm512_loadu_ps(sr + 16 * c), nm));
    _mm512_storeu_ps(sr + 16 * c, e);
    sum = _mm512_add_ps(sum, e);
  }
  st.sum = st.sum * correction + _mm512_reduce_add_ps(sum);
  st.max = new_max;
  if (correction != 1.0f) {
    const __m512 cv = _mm512_set1_ps(correction);
    for (int d = 0; d < head_dim; d += 16)
      _mm512_storeu_ps(o + d, _mm512_mul_ps(cv, _mm512_loadu_ps(o + d)));
  }
}

// One group of R rows against one key block [j0, j0 + count): scores, masking
// (keys past each row's visible count), running max / sum update, rescale of
// the row outputs, then P·V.
template <int R>
void rows_against_block(const float* qs, const float* kt, const float* v, int64_t kv_stride, int head_dim,
                        int64_t j0, int count, const int64_t* visible, RowState* state, float* o,
                        float* scores) {
  score_tile<R>(qs, head_dim, kt, scores);
  for (int r = 0; r < R; ++r) softmax_update(scores + r * kBk, j0, count, visible[r], state[r], o + r * head_dim, head_dim);
  accumulate_values<R>(scores, v + j0 * kv_stride, kv_stride, count, head_dim, o);
}

template <int R>
void run_group(const float* qs, const float* kt, const float* v, int64_t kv_stride, int head_dim, int64_t j0,
               int count, const int64_t* visible, RowState* state, float* o, float* scores, int rows) {
  switch (rows) {
    case 6: rows_against_block<6>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
    case 5: rows_against_block<5>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
    case 4: rows_against_block<4>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
    case 3: rows_against_block<3>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
    case 2: rows_against_block<2>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
    default: rows_against_block<1>(qs, kt, v, kv_stride, head_dim, j0, count, visible, state, o, scores); break;
  }
}

}  // namespace

void attention_pack_keys_avx512(const float* k, const AttentionShape& s, int kv_head, int64_t block,
                                float* k_packed) {
  const int hd = s.head_dim;
  const int64_t j0 = block * kBk;
  const int count = static_cast<int>(std::min<int64_t>(kBk, s.n_kv - j0));
  const int64_t blocks = (s.n_kv + kBk - 1) / kBk;
  transpose_keys(k + kv_head * hd, s.kv_stride, j0, count, hd,
                 k_packed + static_cast<size_t>((kv_head * blocks + block) * kBk * hd));
}

void attention_rows_avx512(const float* q, const float* k_packed, const float* v, const AttentionShape& s,
                           int head, int64_t i0, int64_t i1, float* out) {
  const int hd = s.head_dim;
  const int kvh = head / (s.n_heads / s.n_kv_heads);
  const int rows = static_cast<int>(i1 - i0);
  // Per-thread scratch: scaled queries, transposed keys, scores, outputs.
  thread_local std::vector<float> qs, scores, o;
  qs.resize(static_cast<size_t>(kBq * hd));
  scores.resize(static_cast<size_t>(kRows * kBk));
  o.assign(static_cast<size_t>(kBq * hd), 0.0f);
  RowState state[kBq];
  int64_t visible[kBq];
  for (int r = 0; r < rows; ++r) {
    const float* qr = q + (i0 + r) * s.q_stride + head * hd;
    for (int d = 0; d < hd; ++d) qs[r * hd + d] = qr[d] * s.scale;
    visible[r] = s.causal ? std::min(s.n_kv, s.q_offset + i0 + r + 1) : s.n_kv;
  }
  const int64_t last_visible = visible[rows - 1];  // rows see non-decreasing key counts
  const float* vh = v + kvh * hd;
  const int64_t blocks = (s.n_kv + kBk - 1) / kBk;
  for (int64_t j0 = 0; j0 < last_visible; j0 += kBk) {
    const int count = static_cast<int>(std::min<int64_t>(kBk, last_visible - j0));
    const float* kt = k_packed + static_cast<size_t>((kvh * blocks + j0 / kBk) * kBk * hd);
    for (int r0 = 0; r0 < rows; r0 += kRows) {
      const int group = std::min(kRows, rows - r0);
      if (visible[r0 + group - 1] <= j0) continue;  // causal: this block is entirely in the group's future
      run_group<kRows>(qs.data() + r0 * hd, kt, vh, s.kv_stride, hd, j0, count, visible + r0, state + r0,
                       o.data() + r0 * hd, scores.data(), group);
    }
  }
  for (int r = 0; r < rows; ++r) {
    const float inv = state[r].sum > 0.0f ? 1.0f / state[r].sum : 0.0f;
    float* dst = out + (i0 + r) * s.out_stride + head * hd;
    for (int d = 0; d < hd; ++d) dst[d] = o[r * hd + d] * inv;
  }
}

namespace {

// ------------------------------------------------------------- bf16 products
//
// Same blocking and online softmax; the two products use vdpbf16ps, which
// multiplies bf16 pairs and accumulates in float32. Q·Kᵀ pairs adjacent
// head dimensions: kt2[p * kBk + j] holds (k[j][2p], k[j][2p+1]). P·V pairs
// adjacent keys: vt2[(jj * head_dim + d)] holds (v[2jj][d], v[2jj+1][d]).

// 32 floats (two vectors) -> 32 bf16 in order (lo's 16 then hi's 16).
inline __m512i to_bf16_pairs(__m512 lo, __m512 hi) { return (__m512i)_mm512_cvtne2ps_pbh(hi, lo); }

void pack_keys_bf16(const float* k, int64_t kv_stride, int64_t j0, int count, int head_dim, uint32_t* kt2) {
  __m512 block[16];
  for (int jb = 0; jb < kBk; jb += 16) {
    for (int d0 = 0; d0 < head_dim; d0 += 32) {
      // Row r: the 16 dimension pairs d0..d0+31 of key jb + r, as 32-bit lanes.
      for (int r = 0; r < 16; ++r) {
        if (jb + r < count) {
          const float* kr = k + (j0 + jb + r) * kv_stride + d0;
          block[r] = _mm512_castsi512_ps(to_bf16_pairs(_mm512_loadu_ps(kr), _mm512_loadu_ps(kr + 16)));
        } else {
          block[r] = _mm512_setzero_ps();
        }
      }
      transpose16x16(block);
      for (int p = 0; p < 16; ++p) _mm512_storeu_ps(reinterpret_cast<float*>(kt2 + (d0 / 2 + p) * kBk + jb), block[p]);
    }
  }
}

void pack_values_bf16(const float* v, int64_t kv_stride, int64_t j0, int count, int head_dim, uint32_t* vt2) {
  // Interleaves two rows' 16 bf16 values: lanes (a0, b0, a1, b1, ...).
  const __m512i interleave = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7,
                                              22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
  for (int jj = 0; jj < kBk / 2; ++jj) {
    const int ja = 2 * jj, jb = 2 * jj + 1;
    for (int d0 = 0; d0 < head_dim; d0 += 16) {
      const __m512 a = ja < count ? _mm512_loadu_ps(v + (j0 + ja) * kv_stride + d0) : _mm512_setzero_ps();
      const __m512 b = jb < count ? _mm512_loadu_ps(v + (j0 + jb) * kv_stride + d0) : _mm512_setzero_ps();
      const __m512i packed = _mm512_permutexvar_epi16(interleave, to_bf16_pairs(a, b));
      _mm512_storeu_si512(vt2 + jj * head_dim + d0, packed);
    }
  }
}

template <int R>
inline void score_tile_bf16(const uint32_t* qs2, int head_dim, const uint32_t* kt2, float* scores) {
  __m512 acc[R][kBk / 16];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kBk / 16; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int p = 0; p < head_dim / 2; ++p) {
    __m512bh kv[kBk / 16];
    for (int c = 0; c < kBk / 16; ++c) kv[c] = (__m512bh)_mm512_loadu_si512(kt2 + p * kBk + 16 * c);
    for (int r = 0; r < R; ++r) {
      const __m512bh qb = (__m512bh)_mm512_set1_epi32(static_cast<int>(qs2[r * (head_dim / 2) + p]));
      for (int c = 0; c < kBk / 16; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], qb, kv[c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kBk / 16; ++c) _mm512_storeu_ps(scores + r * kBk + 16 * c, acc[r][c]);
}

// o_r += Σ_j p[r][j] · v_j with key pairs; p2[r * kBk/2 + jj] is the bf16 pair (p[r][2jj], p[r][2jj+1]).
// VECS: output vectors per chunk, a compile-time count so the accumulators
// stay in registers (a run-time count made the compiler branch and spill).
template <int R, int VECS>
inline void accumulate_value_chunk_bf16(const uint32_t* p2, const uint32_t* vt2, int pairs, int head_dim, int d0,
                                        float* o) {
  __m512 acc[R][VECS];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < VECS; ++c) acc[r][c] = _mm512_loadu_ps(o + r * head_dim + d0 + 16 * c);
  for (int jj = 0; jj < pairs; ++jj) {
    __m512bh vv[VECS];
    for (int c = 0; c < VECS; ++c) vv[c] = (__m512bh)_mm512_loadu_si512(vt2 + jj * head_dim + d0 + 16 * c);
    for (int r = 0; r < R; ++r) {
      const __m512bh pb = (__m512bh)_mm512_set1_epi32(static_cast<int>(p2[r * (kBk / 2) + jj]));
      for (int c = 0; c < VECS; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], pb, vv[c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < VECS; ++c) _mm512_storeu_ps(o + r * head_dim + d0 + 16 * c, acc[r][c]);
}

template <int R>
inline void accumulate_values_bf16(const uint32_t* p2, const uint32_t* vt2, int count, int head_dim, float* o) {
  const int pairs = (count + 1) / 2;
  int d0 = 0;
  for (; d0 + 64 <= head_dim; d0 += 64) accumulate_value_chunk_bf16<R, 4>(p2, vt2, pairs, head_dim, d0, o);
  // head_dim is a multiple of 32 here: at most one 32-wide chunk is left.
  if (d0 < head_dim) accumulate_value_chunk_bf16<R, 2>(p2, vt2, pairs, head_dim, d0, o);
}

template <int R>
void rows_against_block_bf16(const uint32_t* qs2, const uint32_t* kt2, const uint32_t* vt2, int head_dim,
                             int64_t j0, int count, const int64_t* visible, RowState* state, float* o,
                             float* scores, uint32_t* p2) {
  score_tile_bf16<R>(qs2, head_dim, kt2, scores);
  for (int r = 0; r < R; ++r) softmax_update(scores + r * kBk, j0, count, visible[r], state[r], o + r * head_dim, head_dim);
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < kBk / 32; ++c) {
      const float* sr = scores + r * kBk + 32 * c;
      _mm512_storeu_si512(p2 + r * (kBk / 2) + 16 * c, to_bf16_pairs(_mm512_loadu_ps(sr), _mm512_loadu_ps(sr + 16)));
    }
  accumulate_values_bf16<R>(p2, vt2, count, head_dim, o);
}

// A full key block that every row of the group sees entirely (all blocks
// but the last in the non-causal vision case): the scores stay in registers
// from Q·Kᵀ through the running max, exp and sum to the bf16 pairs of P, with
// no masking pass and no round trip through the scores buffer. The weights
// only feed bf16 products, so a shorter exp polynomial is enough.
template <int R>
void full_block_bf16(const uint32_t* qs2, int head_dim, const uint32_t* kt2, const uint32_t* vt2,
                     RowState* state, float* o, uint32_t* p2) {
  constexpr int C = kBk / 16;
  __m512 acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = _mm512_setzero_ps();
  for (int p = 0; p < head_dim / 2; ++p) {
    __m512bh kv[C];
    for (int c = 0; c < C; ++c) kv[c] = (__m512bh)_mm512_loadu_si512(kt2 + p * kBk + 16 * c);
    for (int r = 0; r < R; ++r) {
      const __m512bh qb = (__m512bh)_mm512_set1_epi32(static_cast<int>(qs2[r * (head_dim / 2) + p]));
      for (int c = 0; c < C; ++c) acc[r][c] = _mm512_dpbf16_ps(acc[r][c], qb, kv[c]);
    }
  }
  for (int r = 0; r < R; ++r) {
    RowState& st = state[r];
    __m512 mx = acc[r][0];
    for (int c = 1; c < C; ++c) mx = _mm512_max_ps(mx, acc[r][c]);
    const float new_max = std::max(st.max, _mm512_reduce_max_ps(mx));
    const float correction = st.max == new_max ? 1.0f : std::exp(st.max - new_max);
    const __m512 nm = _mm512_set1_ps(new_max == -INFINITY ? 0.0f : new_max);
    __m512 sum = _mm512_setzero_ps();
    for (int c = 0; c < C; ++c) {
      acc[r][c] = exp_nonpositive_ps_for_bf16(_mm512_sub_ps(acc[r][c], nm));
      sum = _mm512_add_ps(sum, acc[r][c]);
    }
    st.sum = st.sum * correction + _mm512_reduce_add_ps(sum);
    st.max = new_max;
    for (int c = 0; c < C / 2; ++c)
      _mm512_storeu_si512(p2 + r * (kBk / 2) + 16 * c, to_bf16_pairs(acc[r][2 * c], acc[r][2 * c + 1]));
    if (correction != 1.0f) {
      const __m512 cv = _mm512_set1_ps(correction);
      float* orow = o + r * head_dim;
      for (int d = 0; d < head_dim; d += 16) _mm512_storeu_ps(orow + d, _mm512_mul_ps(cv, _mm512_loadu_ps(orow + d)));
    }
  }
  accumulate_values_bf16<R>(p2, vt2, kBk, head_dim, o);
}

}  // namespace

int64_t attention_key_blocks(int64_t n_kv) { return (n_kv + kBk - 1) / kBk; }

void attention_pack_bf16_avx512(const float* k, const float* v, const AttentionShape& s, int kv_head, int64_t block,
                                uint32_t* k_packed, uint32_t* v_packed) {
  const int hd = s.head_dim;
  const int64_t j0 = block * kBk;
  const int count = static_cast<int>(std::min<int64_t>(kBk, s.n_kv - j0));
  const size_t offset = static_cast<size_t>((kv_head * attention_key_blocks(s.n_kv) + block) * kBk * hd / 2);
  pack_keys_bf16(k + kv_head * hd, s.kv_stride, j0, count, hd, k_packed + offset);
  pack_values_bf16(v + kv_head * hd, s.kv_stride, j0, count, hd, v_packed + offset);
}

void attention_rows_bf16_avx512(const float* q, const uint32_t* k_packed, const uint32_t* v_packed,
                                const AttentionShape& s, int head, int64_t i0, int64_t i1, float* out) {
  const int hd = s.head_dim;
  const int kvh = head / (s.n_heads / s.n_kv_heads);
  const int rows = static_cast<int>(i1 - i0);
  thread_local std::vector<uint32_t> qs2, p2;
  thread_local std::vector<float> scores, o;
  qs2.resize(static_cast<size_t>(kBq * hd / 2));
  p2.resize(static_cast<size_t>(kRowsBf16 * kBk / 2));
  scores.resize(static_cast<size_t>(kRowsBf16 * kBk));
  o.assign(static_cast<size_t>(kBq * hd), 0.0f);
  RowState state[kBq];
  int64_t visible[kBq];
  const __m512 scale = _mm512_set1_ps(s.scale);
  for (int r = 0; r < rows; ++r) {
    const float* qr = q + (i0 + r) * s.q_stride + head * hd;
    for (int d = 0; d < hd; d += 32) {
      const __m512i packed = to_bf16_pairs(_mm512_mul_ps(_mm512_loadu_ps(qr + d), scale),
                                           _mm512_mul_ps(_mm512_loadu_ps(qr + d + 16), scale));
      _mm512_storeu_si512(qs2.data() + r * (hd / 2) + d / 2, packed);
    }
    visible[r] = s.causal ? std::min(s.n_kv, s.q_offset + i0 + r + 1) : s.n_kv;
  }
  const int64_t last_visible = visible[rows - 1];
  const size_t block_units = static_cast<size_t>(kBk * hd / 2);
  const size_t head_offset = static_cast<size_t>(kvh * attention_key_blocks(s.n_kv)) * block_units;
  for (int64_t j0 = 0; j0 < last_visible; j0 += kBk) {
    const int count = static_cast<int>(std::min<int64_t>(kBk, last_visible - j0));
    const uint32_t* kt2 = k_packed + head_offset + static_cast<size_t>(j0 / kBk) * block_units;
    const uint32_t* vt2 = v_packed + head_offset + static_cast<size_t>(j0 / kBk) * block_units;
    for (int r0 = 0; r0 < rows; r0 += kRowsBf16) {
      const int group = std::min(kRowsBf16, rows - r0);
      if (visible[r0 + group - 1] <= j0) continue;
      const uint32_t* qg = qs2.data() + r0 * (hd / 2);
      float* og = o.data() + r0 * hd;
      // Rows see non-decreasing key counts: the first row seeing the whole block means all do.
      if (count == kBk && visible[r0] >= j0 + kBk) {
        switch (group) {
          case 6: full_block_bf16<6>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
          case 5: full_block_bf16<5>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
          case 4: full_block_bf16<4>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
          case 3: full_block_bf16<3>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
          case 2: full_block_bf16<2>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
          default: full_block_bf16<1>(qg, hd, kt2, vt2, state + r0, og, p2.data()); break;
        }
        continue;
      }
      switch (group) {
        case 6: rows_against_block_bf16<6>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
        case 5: rows_against_block_bf16<5>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
        case 4: rows_against_block_bf16<4>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
        case 3: rows_against_block_bf16<3>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
        case 2: rows_against_block_bf16<2>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
        default: rows_against_block_bf16<1>(qg, kt2, vt2, hd, j0, count, visible + r0, state + r0, og, scores.data(), p2.data()); break;
      }
    }
  }
  for (int r = 0; r < rows; ++r) {
    const float inv = state[r].sum > 0.0f ? 1.0f / state[r].sum : 0.0f;
    float* dst = out + (i0 + r) * s.out_stride + head * hd;
    for (int d = 0; d < hd; ++d) dst[d] = o[r * hd + d] * inv;
  }
}

}  // namespace qwen3vl::kernels
