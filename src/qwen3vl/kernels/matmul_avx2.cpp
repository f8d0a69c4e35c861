// AVX2 + FMA + F16C matmul kernels, the fallback for machines without
// AVX-512. Compiled with AVX2 flags: call only after active_isa_level() says
// at least Avx2 (see matmul.cpp). Same numerics as the AVX-512 kernels.
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "qwen3vl/kernels/matmul_kernels.h"

namespace qwen3vl::kernels {

namespace {

// ---------------------------------------------------------------- float path

template <WeightFormat F>
constexpr int64_t element_bytes() {
  return F == WeightFormat::F32 ? 4 : 2;
}

template <WeightFormat F>
const void* weight_row(const WeightMatrix& w, int64_t n) {
  return static_cast<const char*>(w.data) + n * w.cols * element_bytes<F>();
}

template <WeightFormat F>
inline __m256 load8(const void* row, int64_t k) {
  if constexpr (F == WeightFormat::F32) {
    return _mm256_loadu_ps(static_cast<const float*>(row) + k);
  } else {
    const __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(static_cast<const uint16_t*>(row) + k));
    if constexpr (F == WeightFormat::BF16) return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
    else return _mm256_cvtph_ps(h);
  }
}

// The last (fewer than 8) columns, copied to a zero-padded buffer first so
// nothing past the row is read.
template <WeightFormat F>
inline __m256 load8_tail(const void* row, int64_t k, int64_t count) {
  alignas(32) uint8_t buffer[32] = {};
  std::memcpy(buffer, static_cast<const char*>(row) + k * element_bytes<F>(), count * element_bytes<F>());
  return load8<F>(buffer, 0);
}

inline float horizontal_sum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <WeightFormat F, int R>
inline void gemv_rows(const float* x, const WeightMatrix& w, int64_t n, float* y) {
  const int64_t k_full = w.cols & ~int64_t{7};
  const void* rows[R];
  __m256 acc[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = weight_row<F>(w, n + r);
    acc[r] = _mm256_setzero_ps();
  }
  for (int64_t k = 0; k < k_full; k += 8) {
    const __m256 xv = _mm256_loadu_ps(x + k);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(load8<F>(rows[r], k), xv, acc[r]);
  }
  if (k_full < w.cols) {
    const int64_t count = w.cols - k_full;
    alignas(32) float xt[8] = {};
    std::memcpy(xt, x + k_full, count * 4);
    const __m256 xv = _mm256_load_ps(xt);
    for (int r = 0; r < R; ++r) acc[r] = _mm256_fmadd_ps(load8_tail<F>(rows[r], k_full, count), xv, acc[r]);
  }
  for (int r = 0; r < R; ++r) y[n + r] = horizontal_sum(acc[r]);
}

template <WeightFormat F>
void gemv(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) gemv_rows<F, 4>(x, w, n, y);
  for (; n < n1; ++n) gemv_rows<F, 1>(x, w, n, y);
}

// GEMM: 16-row weight panels widened and transposed to panel[k][16], a
// 6 × 16 tile of Y in 12 registers.
constexpr int kPanel = 16;
constexpr int kRowsX = 6;

template <WeightFormat F>
void pack_panel(const WeightMatrix& w, int64_t n, int valid, float* panel, std::vector<float>& row) {
  const int64_t K = w.cols;
  row.resize(static_cast<size_t>(K));
  for (int j = 0; j < kPanel; ++j) {
    if (j < valid) {
      const void* src = weight_row<F>(w, n + j);
      int64_t k = 0;
      for (; k + 8 <= K; k += 8) _mm256_storeu_ps(row.data() + k, load8<F>(src, k));
      if (k < K) {
        alignas(32) float t[8];
        _mm256_store_ps(t, load8_tail<F>(src, k, K - k));
        std::memcpy(row.data() + k, t, (K - k) * 4);
      }
      for (int64_t kk = 0; kk < K; ++kk) panel[kk * kPanel + j] = row[kk];
    } else {
      for (int64_t kk = 0; kk < K; ++kk) panel[kk * kPanel + j] = 0.0f;
    }
  }
}

template <int M>
void gemm_tile(const float* x, int64_t K, const float* panel, float* y, int64_t ldy, int valid) {
  __m256 lo[M], hi[M];
  for (int i = 0; i < M; ++i) lo[i] = hi[i] = _mm256_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m256 w0 = _mm256_loadu_ps(panel + k * kPanel);
    const __m256 w1 = _mm256_loadu_ps(panel + k * kPanel + 8);
    for (int i = 0; i < M; ++i) {
      const __m256 xb = _mm256_broadcast_ss(x + i * K + k);
      lo[i] = _mm256_fmadd_ps(w0, xb, lo[i]);
      hi[i] = _mm256_fmadd_ps(w1, xb, hi[i]);
    }
  }
  for (int i = 0; i < M; ++i) {
    alignas(32) float out[kPanel];
    _mm256_store_ps(out, lo[i]);
    _mm256_store_ps(out + 8, hi[i]);
    std::memcpy(y + i * ldy, out, valid * sizeof(float));
  }
}

template <WeightFormat F>
void gemm(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  const int64_t K = w.cols;
  thread_local std::vector<float> panel, row;
  panel.resize(static_cast<size_t>(K * kPanel));
  for (int64_t n = n0; n < n1; n += kPanel) {
    const int valid = static_cast<int>(std::min<int64_t>(kPanel, n1 - n));
    pack_panel<F>(w, n, valid, panel.data(), row);
    int64_t i = 0;
    for (; i + kRowsX <= m; i += kRowsX) gemm_tile<kRowsX>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid);
    switch (m - i) {
      case 5: gemm_tile<5>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid); break;
      case 4: gemm_tile<4>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid); break;
      case 3: gemm_tile<3>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid); break;
      case 2: gemm_tile<2>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid); break;
      case 1: gemm_tile<1>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid); break;
      default: break;
    }
  }
}

template <WeightFormat F>
void float_matmul(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  if (m == 1) gemv<F>(x, w, n0, n1, y);
  else gemm<F>(x, m, w, n0, n1, y);
}

// ------------------------------------------------------------ quantized path

inline __m256i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm256_set1_epi32(v);
}

// Σ over 4 inputs of w·x per 32-bit lane, added to acc. maddubs needs an
// unsigned operand and saturates pairs at 16 bits, so multiply |w| by x with
// w's sign moved onto it: pairs stay within 2·127·127 < 32767.
inline __m256i dot4_accumulate(__m256i acc, __m256i w_signed, __m256i x, __m256i ones16) {
  const __m256i pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(w_signed), _mm256_sign_epi8(x, w_signed));
  return _mm256_add_epi32(acc, _mm256_madd_epi16(pairs, ones16));
}

// An M × 16 tile of Y (one weight tile, as two 8-row halves).
template <WeightFormat F, int M>
void quant_tile(const QuantizedActivations& a, int64_t i0, const WeightMatrix& w, int64_t tile, float* y) {
  const int64_t groups = quant_groups(w.cols);
  const size_t block_bytes = quant_block_bytes(F);
  const uint8_t* base = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(tile) * groups * block_bytes;
  const __m256i ones16 = _mm256_set1_epi16(1);
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i q8_offset = _mm256_set1_epi8(static_cast<char>(0x80));
  const __m256i q4_offset = _mm256_set1_epi8(8);
  __m256 facc[M][2];
  for (int i = 0; i < M; ++i) facc[i][0] = facc[i][1] = _mm256_setzero_ps();
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* blk = base + g * block_bytes;
    __m256i acc[M][2];
    for (int i = 0; i < M; ++i) acc[i][0] = acc[i][1] = _mm256_setzero_si256();
    const int8_t* xg[M];
    for (int i = 0; i < M; ++i) xg[i] = a.row_values(i0 + i) + g * kQuantGroup;
    if constexpr (F == WeightFormat::Q8) {
      for (int c = 0; c < 8; ++c) {
        __m256i wv[2];
        for (int h = 0; h < 2; ++h)
          wv[h] = _mm256_xor_si256(
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQuantScaleBytes + 64 * c + 32 * h)), q8_offset);
        for (int i = 0; i < M; ++i) {
          const __m256i xb = broadcast4(xg[i] + 4 * c);
          for (int h = 0; h < 2; ++h) acc[i][h] = dot4_accumulate(acc[i][h], wv[h], xb, ones16);
        }
      }
    } else {
      for (int c = 0; c < 4; ++c) {
        __m256i lo[2], hi[2];
        for (int h = 0; h < 2; ++h) {
          const __m256i raw =
              _mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk + kQuantScaleBytes + 64 * c + 32 * h));
          lo[h] = _mm256_sub_epi8(_mm256_and_si256(raw, low_nibbles), q4_offset);
          hi[h] = _mm256_sub_epi8(_mm256_and_si256(_mm256_srli_epi16(raw, 4), low_nibbles), q4_offset);
        }
        for (int i = 0; i < M; ++i) {
          const __m256i xlo = broadcast4(xg[i] + 8 * c);
          const __m256i xhi = broadcast4(xg[i] + 8 * c + 4);
          for (int h = 0; h < 2; ++h) {
            acc[i][h] = dot4_accumulate(acc[i][h], lo[h], xlo, ones16);
            acc[i][h] = dot4_accumulate(acc[i][h], hi[h], xhi, ones16);
          }
        }
      }
    }
    __m256 sw[2];
    for (int h = 0; h < 2; ++h) sw[h] = _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk + 16 * h)));
    for (int i = 0; i < M; ++i) {
      const __m256 sx = _mm256_set1_ps(a.row_scales(i0 + i)[g]);
      for (int h = 0; h < 2; ++h)
        facc[i][h] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(acc[i][h]), _mm256_mul_ps(sw[h], sx), facc[i][h]);
    }
  }
  const int64_t row0 = tile * kQuantTileRows;
  const int64_t valid = std::min<int64_t>(kQuantTileRows, w.rows - row0);
  for (int i = 0; i < M; ++i) {
    alignas(32) float out[kQuantTileRows];
    _mm256_store_ps(out, facc[i][0]);
    _mm256_store_ps(out + 8, facc[i][1]);
    std::memcpy(y + (i0 + i) * w.rows + row0, out, valid * sizeof(float));
  }
}

template <WeightFormat F>
void quant_matmul(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1, float* y) {
  for (int64_t t = tile0; t < tile1; ++t) {
    int64_t i = 0;
    for (; i + 2 <= a.m; i += 2) quant_tile<F, 2>(a, i, w, t, y);
    if (i < a.m) quant_tile<F, 1>(a, i, w, t, y);
  }
}

}  // namespace

void float_matmul_avx2(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  switch (w.format) {
    case WeightFormat::F32: return float_matmul<WeightFormat::F32>(x, m, w, n0, n1, y);
    case WeightFormat::BF16: return float_matmul<WeightFormat::BF16>(x, m, w, n0, n1, y);
    case WeightFormat::F16: return float_matmul<WeightFormat::F16>(x, m, w, n0, n1, y);
    default: return;
  }
}

void quant_matmul_avx2(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                       float* y) {
  if (w.format == WeightFormat::Q8) quant_matmul<WeightFormat::Q8>(a, w, tile0, tile1, y);
  else quant_matmul<WeightFormat::Q4>(a, w, tile0, tile1, y);
}

}  // namespace qwen3vl::kernels
