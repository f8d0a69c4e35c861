// AVX-512 attention kernels: the width-generic float32 blocked kernel
// (attention_simd.h) instantiated at 16 lanes, and the bf16-product kernel
// (AVX-512 BF16 only). Compiled with AVX-512 flags: call only after
// active_isa_level() says Avx512 (see attention.cpp).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "qwen3vl/kernels/simd_avx512.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/attention_simd.h"

namespace qwen3vl::kernels {

const AttentionKernels& attention_kernels_avx512() {
  static const AttentionKernels kernels = simd::attention_kernels_for<Avx512>();
  return kernels;
}

namespace {

using simd::RowState;

constexpr int kBq = static_cast<int>(kAttentionQueryBlock);
constexpr int kBk = static_cast<int>(kAttentionBf16BlockKeys);
// Query rows sharing each loaded key / value vector: 6 × 4 accumulators + 5
// fit the 32 registers; measured on the vision shape, 6 helps the bf16
// kernel (160 -> 185 GFLOP/s).
constexpr int kRowsBf16 = 6;

inline void softmax_update(float* sr, int64_t j0, int count, int64_t visible, RowState& st, float* o, int head_dim) {
  simd::softmax_update<Avx512, kBk>(sr, j0, count, visible, st, o, head_dim);
}

// e^x for x <= 0 (softmax weights: score minus the running max), for results
// that are rounded to bf16 next (8 significant bits, 2^-9 relative): the
// degree-5 polynomial truncates at < 3e-6 relative, far below that rounding,
// with two fewer FMAs and no upper clamp.
inline __m512 exp_nonpositive_ps_for_bf16(__m512 x) { return simd::exp_taylor<Avx512, 5, false>(x); }

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
      Avx512::transpose(block);
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

void attention_pack_bf16_avx512(const float* k, const float* v, const AttentionShape& s, int kv_head, int64_t block,
                                uint32_t* k_packed, uint32_t* v_packed) {
  const int hd = s.head_dim;
  const int64_t j0 = block * kBk;
  const int count = static_cast<int>(std::min<int64_t>(kBk, s.n_kv - j0));
  const size_t offset = static_cast<size_t>((kv_head * ((s.n_kv + kBk - 1) / kBk) + block) * kBk * hd / 2);
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
  const size_t head_offset = static_cast<size_t>(kvh * ((s.n_kv + kBk - 1) / kBk)) * block_units;
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
