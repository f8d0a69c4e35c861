// Internal: the blocked (flash-style) float32 attention written once over
// the vector width (V: simd_avx2.h / simd_avx512.h), instantiated by
// attention_avx2.cpp and attention_avx512.cpp. Also the online-softmax step
// the AVX-512 bf16 kernel shares.
//
// Per task (query head, block of query rows): key blocks of kBlockKeys keys,
// transposed once per call (shared by every query block), give a score tile
// Q·Kᵀ per group of rows; an online softmax per row (running max and sum,
// rescaling the row's output when the max grows); then P·V. Same results as
// attention_reference up to summation order and a ~1-ulp exponential.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "qwen3vl/kernels/attention_kernels.h"
#include "qwen3vl/kernels/compile_time_count.h"
#include "qwen3vl/kernels/simd_math.h"

namespace qwen3vl::kernels::simd {

template <class V>
struct AttentionTiling {
  static constexpr int kBlockQueries = static_cast<int>(kAttentionQueryBlock);
  // Keys per block: four vectors of scores per row.
  static constexpr int kKeyVecs = 4;
  static constexpr int kBlockKeys = kKeyVecs * V::kLanes;
  // Query rows sharing each loaded key / value vector: R × 4 accumulators +
  // 4 loaded vectors + 1 broadcast must fit the registers (measured on the
  // vision shape at AVX-512: 4 rows were as fast as 6 for float products).
  static constexpr int kRows = V::kRegisters >= 32 ? 4 : 2;
};

template <class V>
inline int64_t key_blocks(int64_t n_kv) {
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  return (n_kv + B - 1) / B;
}

// kt[d * B + j] = key row (j0 + j) at dimension d; keys past `count` are
// zero. kLanes × kLanes blocks go through registers (head_dim is a multiple
// of kLanes).
template <class V>
void transpose_keys(const float* k, int64_t kv_stride, int64_t j0, int count, int head_dim, float* kt) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  F block[L];
  for (int jb = 0; jb < B; jb += L) {
    for (int d0 = 0; d0 < head_dim; d0 += L) {
      for (int r = 0; r < L; ++r) block[r] = jb + r < count ? V::load(k + (j0 + jb + r) * kv_stride + d0) : V::zero();
      V::transpose(block);
      for (int d = 0; d < L; ++d) V::store(kt + (d0 + d) * B + jb, block[d]);
    }
  }
}

// scores[r][j] = q_r · k_j for R rows and the B keys of kt.
template <class V, int R>
inline void score_tile(const float* qs, int head_dim, const float* kt, float* scores) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int C = AttentionTiling<V>::kKeyVecs;
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  F acc[R][C];
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) acc[r][c] = V::zero();
  for (int d = 0; d < head_dim; ++d) {
    F kv[C];
    for (int c = 0; c < C; ++c) kv[c] = V::load(kt + d * B + L * c);
    for (int r = 0; r < R; ++r) {
      const F qb = V::set1(qs[r * head_dim + d]);
      for (int c = 0; c < C; ++c) acc[r][c] = V::fmadd(qb, kv[c], acc[r][c]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int c = 0; c < C; ++c) V::store(scores + r * B + L * c, acc[r][c]);
}

// o_r += Σ_j p[r][j] · v_j for R rows, four vectors of output dims at a time.
template <class V, int R>
inline void accumulate_values(const float* p, const float* v, int64_t kv_stride, int count, int head_dim, float* o) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int C = 4;
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  for (int d0 = 0; d0 < head_dim; d0 += C * L) {
    const int vecs = std::min(C * L, head_dim - d0) / L;
    F acc[R][C];
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < C; ++c) acc[r][c] = c < vecs ? V::load(o + r * head_dim + d0 + L * c) : V::zero();
    for (int j = 0; j < count; ++j) {
      const float* vr = v + j * kv_stride + d0;
      if (vecs == C) {
        F vv[C];
        for (int c = 0; c < C; ++c) vv[c] = V::load(vr + L * c);
        for (int r = 0; r < R; ++r) {
          const F pb = V::set1(p[r * B + j]);
          for (int c = 0; c < C; ++c) acc[r][c] = V::fmadd(pb, vv[c], acc[r][c]);
        }
      } else {
        for (int c = 0; c < vecs; ++c) {
          const F vv = V::load(vr + L * c);
          for (int r = 0; r < R; ++r) acc[r][c] = V::fmadd(V::set1(p[r * B + j]), vv, acc[r][c]);
        }
      }
    }
    for (int r = 0; r < R; ++r)
      for (int c = 0; c < vecs; ++c) V::store(o + r * head_dim + d0 + L * c, acc[r][c]);
  }
}

// Online-softmax state of one query row.
struct RowState {
  float max = -INFINITY;
  float sum = 0.0f;
};

// Masks one row's B scores past its visible keys, updates its running max
// and sum, rescales its output, and leaves e^(score - max) in place.
template <class V, int B>
inline void softmax_update(float* sr, int64_t j0, int count, int64_t visible, RowState& st, float* o, int head_dim) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  const int64_t seen = std::clamp<int64_t>(visible - j0, 0, count);
  F mx = V::set1(-INFINITY);
  for (int c = 0; c < B / L; ++c) {
    const F sv = V::keep_first(V::load(sr + L * c), seen - L * c, -INFINITY);
    V::store(sr + L * c, sv);
    mx = V::max(mx, sv);
  }
  const float block_max = V::reduce_max(mx);
  const float new_max = std::max(st.max, block_max);
  // A row with nothing visible in this block keeps its state (exp(-inf) = 0 below).
  const float correction = st.max == new_max ? 1.0f : std::exp(st.max - new_max);
  const F nm = V::set1(new_max == -INFINITY ? 0.0f : new_max);
  F sum = V::zero();
  for (int c = 0; c < B / L; ++c) {
    const F e = exp<V>(V::sub(V::load(sr + L * c), nm));
    V::store(sr + L * c, e);
    sum = V::add(sum, e);
  }
  st.sum = st.sum * correction + V::reduce_add(sum);
  st.max = new_max;
  if (correction != 1.0f) {
    const F cv = V::set1(correction);
    for (int d = 0; d < head_dim; d += L) V::store(o + d, V::mul(cv, V::load(o + d)));
  }
}

// One group of R rows against one key block [j0, j0 + count).
template <class V, int R>
void rows_against_block(const float* qs, const float* kt, const float* v, int64_t kv_stride, int head_dim, int64_t j0,
                        int count, const int64_t* visible, RowState* state, float* o, float* scores) {
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  score_tile<V, R>(qs, head_dim, kt, scores);
  for (int r = 0; r < R; ++r)
    softmax_update<V, B>(scores + r * B, j0, count, visible[r], state[r], o + r * head_dim, head_dim);
  accumulate_values<V, R>(scores, v + j0 * kv_stride, kv_stride, count, head_dim, o);
}

template <class V>
void pack_keys(const float* k, const AttentionShape& s, int kv_head, int64_t block, float* k_packed) {
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  const int hd = s.head_dim;
  const int64_t j0 = block * B;
  const int count = static_cast<int>(std::min<int64_t>(B, s.n_kv - j0));
  transpose_keys<V>(k + kv_head * hd, s.kv_stride, j0, count, hd,
                    k_packed + static_cast<size_t>((kv_head * key_blocks<V>(s.n_kv) + block) * B * hd));
}

template <class V>
void attention_rows(const float* q, const float* k_packed, const float* v, const AttentionShape& s, int head,
                    int64_t i0, int64_t i1, float* out) {
  constexpr int B = AttentionTiling<V>::kBlockKeys;
  constexpr int kBq = AttentionTiling<V>::kBlockQueries;
  constexpr int kRows = AttentionTiling<V>::kRows;
  const int hd = s.head_dim;
  const int kvh = head / (s.n_heads / s.n_kv_heads);
  const int rows = static_cast<int>(i1 - i0);
  // Per-thread scratch: scaled queries, scores, outputs.
  thread_local std::vector<float> qs, scores, o;
  qs.resize(static_cast<size_t>(kBq * hd));
  scores.resize(static_cast<size_t>(kRows * B));
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
  const int64_t blocks = key_blocks<V>(s.n_kv);
  for (int64_t j0 = 0; j0 < last_visible; j0 += B) {
    const int count = static_cast<int>(std::min<int64_t>(B, last_visible - j0));
    const float* kt = k_packed + static_cast<size_t>((kvh * blocks + j0 / B) * B * hd);
    for (int r0 = 0; r0 < rows; r0 += kRows) {
      const int group = std::min(kRows, rows - r0);
      if (visible[r0 + group - 1] <= j0) continue;  // causal: this block is entirely in the group's future
      with_count<kRows>(group, [&](auto n) {
        rows_against_block<V, n()>(qs.data() + r0 * hd, kt, vh, s.kv_stride, hd, j0, count, visible + r0, state + r0,
                                   o.data() + r0 * hd, scores.data());
      });
    }
  }
  for (int r = 0; r < rows; ++r) {
    const float inv = state[r].sum > 0.0f ? 1.0f / state[r].sum : 0.0f;
    float* dst = out + (i0 + r) * s.out_stride + head * hd;
    for (int d = 0; d < hd; ++d) dst[d] = o[r * hd + d] * inv;
  }
}

template <class V>
AttentionKernels attention_kernels_for() {
  AttentionKernels k;
  k.lanes = V::kLanes;
  k.block_keys = AttentionTiling<V>::kBlockKeys;
  k.pack_keys = pack_keys<V>;
  k.rows = attention_rows<V>;
  return k;
}

}  // namespace qwen3vl::kernels::simd
