// AVX-512 matmul kernels (F/BW/DQ/VL + VNNI). Compiled with AVX-512 flags:
// call only after active_isa_level() says Avx512 (see matmul.cpp).
// GCC 12 reports false "used uninitialized" warnings inside its own
// avx512fintrin.h (the _mm512_undefined_* placeholders of reductions and
// masked conversions); they are not about this file's code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "qwen3vl/kernels/matmul_kernels.h"
#include "qwen3vl/kernels/transpose_avx512.h"
#include "qwen3vl/kernels/widen_avx512.h"

namespace qwen3vl::kernels {

namespace {

// ---------------------------------------------------------------- float path

template <WeightFormat F>
const void* weight_row(const WeightMatrix& w, int64_t n) {
  return static_cast<const char*>(w.data) + n * w.cols * element_bytes<F>();
}

// GEMV: R weight rows against one input row, one accumulator per row; the
// rows stream from memory, x stays in L1.
template <WeightFormat F, int R>
inline void gemv_rows(const float* x, const WeightMatrix& w, int64_t n, float* y) {
  const int64_t k_full = w.cols & ~int64_t{15};
  const void* rows[R];
  __m512 acc[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = weight_row<F>(w, n + r);
    acc[r] = _mm512_setzero_ps();
  }
  for (int64_t k = 0; k < k_full; k += 16) {
    const __m512 xv = _mm512_loadu_ps(x + k);
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(load16<F>(rows[r], k), xv, acc[r]);
  }
  if (k_full < w.cols) {
    const __mmask16 tail = first_lanes(w.cols - k_full);
    const __m512 xv = _mm512_maskz_loadu_ps(tail, x + k_full);
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(load16_masked<F>(rows[r], k_full, tail), xv, acc[r]);
  }
  for (int r = 0; r < R; ++r) y[n + r] = _mm512_reduce_add_ps(acc[r]);
}

template <WeightFormat F>
void gemv(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) gemv_rows<F, 4>(x, w, n, y);
  for (; n < n1; ++n) gemv_rows<F, 1>(x, w, n, y);
}

// GEMM: panels of kPanel weight rows are widened and transposed once into
// panel[k][kPanel] (all of K), then a kRowsX × kPanel tile of Y lives in 12
// registers while k runs: per k, two weight vectors and kRowsX broadcasts of
// x feed 2·kRowsX FMAs.
constexpr int kPanel = 32;
constexpr int kRowsX = 6;
static_assert(kPanel == kFloatPanelRows);

// panel[k * kPanel + j] = W[n + j][k] as float; rows past `valid` are zero.
template <WeightFormat F>
void pack_panel(const WeightMatrix& w, int64_t n, int valid, float* panel) {
  const int64_t K = w.cols;
  __m512 block[16];
  for (int half = 0; half < kPanel; half += 16) {
    for (int64_t k0 = 0; k0 < K; k0 += 16) {
      const int64_t width = std::min<int64_t>(16, K - k0);
      const __mmask16 mask = first_lanes(width);
      for (int j = 0; j < 16; ++j) {
        const int row = half + j;
        block[j] = row < valid ? load16_masked<F>(weight_row<F>(w, n + row), k0, mask) : _mm512_setzero_ps();
      }
      transpose16x16(block);
      for (int64_t kk = 0; kk < width; ++kk) _mm512_storeu_ps(panel + (k0 + kk) * kPanel + half, block[kk]);
    }
  }
}

template <int M>
void gemm_tile(const float* x, int64_t K, const float* panel, float* y, int64_t ldy, int valid) {
  __m512 lo[M], hi[M];
  for (int i = 0; i < M; ++i) lo[i] = hi[i] = _mm512_setzero_ps();
  for (int64_t k = 0; k < K; ++k) {
    const __m512 w0 = _mm512_loadu_ps(panel + k * kPanel);
    const __m512 w1 = _mm512_loadu_ps(panel + k * kPanel + 16);
    for (int i = 0; i < M; ++i) {
      const __m512 xb = _mm512_set1_ps(x[i * K + k]);
      lo[i] = _mm512_fmadd_ps(w0, xb, lo[i]);
      hi[i] = _mm512_fmadd_ps(w1, xb, hi[i]);
    }
  }
  const __mmask16 m0 = first_lanes(valid), m1 = first_lanes(valid - 16);
  for (int i = 0; i < M; ++i) {
    _mm512_mask_storeu_ps(y + i * ldy, m0, lo[i]);
    _mm512_mask_storeu_ps(y + i * ldy + 16, m1, hi[i]);
  }
}

template <WeightFormat F>
void gemm(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  const int64_t K = w.cols;
  thread_local std::vector<float> panel;
  panel.resize(static_cast<size_t>(K * kPanel));
  for (int64_t n = n0; n < n1; n += kPanel) {
    const int valid = static_cast<int>(std::min<int64_t>(kPanel, n1 - n));
    pack_panel<F>(w, n, valid, panel.data());
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

inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// An M × (T·16) tile of Y: M activation rows against T consecutive weight
// tiles. Per group: integer dots of 32 inputs with vpdpbusd (unsigned stored
// weights q + offset times signed activations; the accumulator starts at
// -offset·Σx so it ends at exactly Σ q·x), then one float FMA with the
// product of the two scales.
template <WeightFormat F, int M, int T>
void quant_tile(const QuantizedActivations& a, int64_t i0, const WeightMatrix& w, int64_t tile, float* y) {
  constexpr int offset = F == WeightFormat::Q8 ? 128 : 8;
  const int64_t groups = quant_groups(w.cols);
  const size_t block_bytes = quant_block_bytes(F);
  const uint8_t* base[T];
  for (int t = 0; t < T; ++t)
    base[t] = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(tile + t) * groups * block_bytes;
  const int8_t* xq[M];
  const float* xs[M];
  const int32_t* xsum[M];
  __m512 facc[M][T];
  for (int i = 0; i < M; ++i) {
    xq[i] = a.row_values(i0 + i);
    xs[i] = a.row_scales(i0 + i);
    xsum[i] = a.row_sums(i0 + i);
    for (int t = 0; t < T; ++t) facc[i][t] = _mm512_setzero_ps();
  }
  const __m512i low_nibbles = _mm512_set1_epi8(0x0f);
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* blk[T];
    for (int t = 0; t < T; ++t) blk[t] = base[t] + g * block_bytes;
    __m512i acc[M][T];
    for (int i = 0; i < M; ++i) {
      const __m512i start = _mm512_set1_epi32(-offset * xsum[i][g]);
      for (int t = 0; t < T; ++t) acc[i][t] = start;
    }
    const int8_t* xg[M];
    for (int i = 0; i < M; ++i) xg[i] = xq[i] + g * kQuantGroup;
    if constexpr (F == WeightFormat::Q8) {
      for (int c = 0; c < 8; ++c) {
        __m512i wv[T];
        for (int t = 0; t < T; ++t) wv[t] = _mm512_loadu_si512(blk[t] + kQuantScaleBytes + 64 * c);
        for (int i = 0; i < M; ++i) {
          const __m512i xb = broadcast4(xg[i] + 4 * c);
          for (int t = 0; t < T; ++t) acc[i][t] = _mm512_dpbusd_epi32(acc[i][t], wv[t], xb);
        }
      }
    } else {
      for (int c = 0; c < 4; ++c) {
        __m512i lo[T], hi[T];
        for (int t = 0; t < T; ++t) {
          const __m512i raw = _mm512_loadu_si512(blk[t] + kQuantScaleBytes + 64 * c);
          lo[t] = _mm512_and_si512(raw, low_nibbles);
          hi[t] = _mm512_and_si512(_mm512_srli_epi16(raw, 4), low_nibbles);
        }
        for (int i = 0; i < M; ++i) {
          const __m512i xlo = broadcast4(xg[i] + 8 * c);
          const __m512i xhi = broadcast4(xg[i] + 8 * c + 4);
          for (int t = 0; t < T; ++t) {
            acc[i][t] = _mm512_dpbusd_epi32(acc[i][t], lo[t], xlo);
            acc[i][t] = _mm512_dpbusd_epi32(acc[i][t], hi[t], xhi);
          }
        }
      }
    }
    __m512 sw[T];
    for (int t = 0; t < T; ++t) sw[t] = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk[t])));
    for (int i = 0; i < M; ++i) {
      const __m512 sx = _mm512_set1_ps(xs[i][g]);
      for (int t = 0; t < T; ++t)
        facc[i][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(acc[i][t]), _mm512_mul_ps(sw[t], sx), facc[i][t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    const int64_t row0 = (tile + t) * kQuantTileRows;
    const __mmask16 mask = first_lanes(w.rows - row0);
    for (int i = 0; i < M; ++i) _mm512_mask_storeu_ps(y + (i0 + i) * w.rows + row0, mask, facc[i][t]);
  }
}

// Six rows × two tiles: 12 integer and 12 float accumulators, enough
// independent vpdpbusd chains to hide their latency (4 rows left the vision
// GEMMs latency-bound), still within the 32 registers.
constexpr int kQuantRowsX = 6;
// 64 rows × K ≤ 4096 int8 values: ≤ 256 KB of activations, L2-resident
// (measured on the 4B shapes: 64 was as good as or better than 32, 256 KB
// worth of rows, or no blocking).
constexpr int64_t kQuantBlockRows = 64;

template <WeightFormat F, int T>
void quant_tiles_rows(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile, int64_t r0, int64_t r1,
                      float* y) {
  int64_t i = r0;
  for (; i + kQuantRowsX <= r1; i += kQuantRowsX) quant_tile<F, kQuantRowsX, T>(a, i, w, tile, y);
  switch (r1 - i) {
    case 5: quant_tile<F, 5, T>(a, i, w, tile, y); break;
    case 4: quant_tile<F, 4, T>(a, i, w, tile, y); break;
    case 3: quant_tile<F, 3, T>(a, i, w, tile, y); break;
    case 2: quant_tile<F, 2, T>(a, i, w, tile, y); break;
    case 1: quant_tile<F, 1, T>(a, i, w, tile, y); break;
    default: break;
  }
}

template <WeightFormat F>
void quant_matmul(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1, float* y) {
  // Tile pairs: each weight load serves up to kQuantRowsX activation rows and
  // each activation broadcast serves two weight tiles. Many activation rows
  // are cut into blocks that stay in L2 while the thread's weight tiles pass
  // over them (each weight byte is then read once per block from L3, instead
  // of every activation row being read once per tile pair).
  for (int64_t r0 = 0; r0 < a.m; r0 += kQuantBlockRows) {
    const int64_t r1 = std::min(a.m, r0 + kQuantBlockRows);
    int64_t t = tile0;
    for (; t + 2 <= tile1; t += 2) quant_tiles_rows<F, 2>(a, w, t, r0, r1, y);
    if (t < tile1) quant_tiles_rows<F, 1>(a, w, t, r0, r1, y);
  }
}

}  // namespace

void quantize_activation_rows_avx512(const float* x, int64_t cols, int64_t i0, int64_t i1,
                                     QuantizedActivations& out) {
  const int64_t blocks = out.blocks;
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * cols;
    int8_t* q = out.values.data() + i * blocks * kQuantGroup;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t k0 = b * kQuantGroup;
      const int64_t n = std::min<int64_t>(kQuantGroup, cols - k0);
      const __m512 lo = _mm512_maskz_loadu_ps(first_lanes(n), xi + k0);
      const __m512 hi = _mm512_maskz_loadu_ps(first_lanes(n - 16), xi + k0 + 16);
      const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(lo, abs_mask), _mm512_and_ps(hi, abs_mask)));
      const float s = amax / 127.0f;
      const float inv = s > 0.0f ? 127.0f / amax : 0.0f;
      const __m512 iv = _mm512_set1_ps(inv);
      // Round to nearest even (the default MXCSR mode, as std::nearbyint), clamp.
      const __m512i lim = _mm512_set1_epi32(127), neg = _mm512_set1_epi32(-127);
      const __m512i qlo = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(lo, iv)), lim), neg);
      const __m512i qhi = _mm512_max_epi32(_mm512_min_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(hi, iv)), lim), neg);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0), _mm512_cvtepi32_epi8(qlo));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k0 + 16), _mm512_cvtepi32_epi8(qhi));
      out.scales[i * blocks + b] = s;
      out.sums[i * blocks + b] = _mm512_reduce_add_epi32(_mm512_add_epi32(qlo, qhi));
    }
  }
}

void float_matmul_avx512(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  switch (w.format) {
    case WeightFormat::F32: return float_matmul<WeightFormat::F32>(x, m, w, n0, n1, y);
    case WeightFormat::BF16: return float_matmul<WeightFormat::BF16>(x, m, w, n0, n1, y);
    case WeightFormat::F16: return float_matmul<WeightFormat::F16>(x, m, w, n0, n1, y);
    default: return;
  }
}

void quant_matmul_avx512(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                         float* y) {
  if (w.format == WeightFormat::Q8) quant_matmul<WeightFormat::Q8>(a, w, tile0, tile1, y);
  else quant_matmul<WeightFormat::Q4>(a, w, tile0, tile1, y);
}

}  // namespace qwen3vl::kernels
