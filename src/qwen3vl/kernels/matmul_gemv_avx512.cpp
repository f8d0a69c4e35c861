// AVX-512 decode GEMV kernels (see gemv_kernels.h). Compiled with AVX-512
// flags: called only when active_isa_level() is Avx512.
//
// Decode is bound by the bytes of weights streamed, so these kernels are
// shaped for the memory system rather than for arithmetic: each thread reads
// one contiguous stretch of the weight (quantized tiles are stored
// tile-major, so consecutive tiles are consecutive bytes), keeps several
// independent accumulator chains so the loads never wait on the adders, and
// asks for data a few blocks ahead.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "qwen3vl/kernels/gemv_kernels.h"
#include "qwen3vl/kernels/widen_avx512.h"

namespace qwen3vl::kernels {

namespace {

// ------------------------------------------------------------- float weights


// R rows at once, two accumulators per row (32 inputs per step) so each
// row's FMA chain is half as long; the next stretch of every row is
// prefetched.
template <WeightFormat F, int R>
inline void float_rows(const float* x, const WeightMatrix& w, int64_t n, float* y) {
  const int64_t K = w.cols;
  const char* rows[R];
  __m512 a0[R], a1[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = static_cast<const char*>(w.data) + (n + r) * K * element_bytes<F>();
    a0[r] = a1[r] = _mm512_setzero_ps();
  }
  constexpr int64_t kAhead = 512;  // bytes ahead of the current position of each row
  int64_t k = 0;
  for (; k + 32 <= K; k += 32) {
    const __m512 x0 = _mm512_loadu_ps(x + k), x1 = _mm512_loadu_ps(x + k + 16);
    for (int r = 0; r < R; ++r) {
      _mm_prefetch(rows[r] + k * element_bytes<F>() + kAhead, _MM_HINT_T0);
      a0[r] = _mm512_fmadd_ps(load16<F>(rows[r], k), x0, a0[r]);
      a1[r] = _mm512_fmadd_ps(load16<F>(rows[r], k + 16), x1, a1[r]);
    }
  }
  for (; k < K; k += 16) {
    const __mmask16 mask = first_lanes(K - k);
    const __m512 xv = _mm512_maskz_loadu_ps(mask, x + k);
    for (int r = 0; r < R; ++r) a0[r] = _mm512_fmadd_ps(load16_masked<F>(rows[r], k, mask), xv, a0[r]);
  }
  for (int r = 0; r < R; ++r) y[n + r] = _mm512_reduce_add_ps(_mm512_add_ps(a0[r], a1[r]));
}

template <WeightFormat F>
void float_gemv(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) float_rows<F, 4>(x, w, n, y);
  for (; n < n1; ++n) float_rows<F, 1>(x, w, n, y);
}

// --------------------------------------------------------- quantized weights

inline __m512i broadcast4(const int8_t* p) {
  int32_t v;
  std::memcpy(&v, p, 4);
  return _mm512_set1_epi32(v);
}

// How many blocks ahead of the current one to prefetch.
constexpr int64_t kBlocksAhead = 6;

// One weight tile (16 rows) against the quantized input. Per group the
// integer dot runs in two independent chains (their sum is exact), then one
// float FMA with the product of the scales: the same float operations, in
// the same order, as quantized_matmul_tiles_scalar.
template <WeightFormat F>
inline void quant_tile(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile, const uint8_t* end,
                       float* y) {
  constexpr int offset = F == WeightFormat::Q8 ? 128 : 8;
  constexpr size_t block_bytes = F == WeightFormat::Q8 ? kQuantScaleBytes + 512 : kQuantScaleBytes + 256;
  const int64_t groups = quant_groups(w.cols);
  const uint8_t* blk = static_cast<const uint8_t*>(w.data) + static_cast<size_t>(tile) * groups * block_bytes;
  const int8_t* xq = a.row_values(0);
  const float* xs = a.row_scales(0);
  const int32_t* xsum = a.row_sums(0);
  const __m512i low_nibbles = _mm512_set1_epi8(0x0f);
  __m512 facc = _mm512_setzero_ps();
  for (int64_t g = 0; g < groups; ++g, blk += block_bytes) {
    const uint8_t* ahead = blk + kBlocksAhead * block_bytes;
    if (ahead + block_bytes <= end)
      for (size_t off = 0; off < block_bytes; off += 64) _mm_prefetch(reinterpret_cast<const char*>(ahead + off), _MM_HINT_T0);
    const int8_t* xg = xq + g * kQuantGroup;
    __m512i acc0 = _mm512_set1_epi32(-offset * xsum[g]);
    __m512i acc1 = _mm512_setzero_si512();
    if constexpr (F == WeightFormat::Q8) {
      for (int c = 0; c < 8; c += 2) {
        acc0 = _mm512_dpbusd_epi32(acc0, _mm512_loadu_si512(blk + kQuantScaleBytes + 64 * c), broadcast4(xg + 4 * c));
        acc1 = _mm512_dpbusd_epi32(acc1, _mm512_loadu_si512(blk + kQuantScaleBytes + 64 * c + 64),
                                   broadcast4(xg + 4 * c + 4));
      }
    } else {
      for (int c = 0; c < 4; ++c) {
        const __m512i raw = _mm512_loadu_si512(blk + kQuantScaleBytes + 64 * c);
        acc0 = _mm512_dpbusd_epi32(acc0, _mm512_and_si512(raw, low_nibbles), broadcast4(xg + 8 * c));
        acc1 = _mm512_dpbusd_epi32(acc1, _mm512_and_si512(_mm512_srli_epi16(raw, 4), low_nibbles),
                                   broadcast4(xg + 8 * c + 4));
      }
    }
    const __m512 sw = _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(blk)));
    facc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(acc0, acc1)), _mm512_mul_ps(sw, _mm512_set1_ps(xs[g])),
                           facc);
  }
  const int64_t row0 = tile * kQuantTileRows;
  _mm512_mask_storeu_ps(y + row0, first_lanes(w.rows - row0), facc);
}

template <WeightFormat F>
void quant_gemv(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1, float* y) {
  const uint8_t* end = static_cast<const uint8_t*>(w.data) + quantized_weight_bytes(F, w.rows, w.cols);
  for (int64_t t = tile0; t < tile1; ++t) quant_tile<F>(a, w, t, end, y);
}

}  // namespace

void quantize_row_avx512(const float* x, int64_t cols, QuantizedActivations& out) {
  const int64_t blocks = quant_groups(cols);
  out.m = 1;
  out.blocks = blocks;
  out.values.resize(static_cast<size_t>(blocks * kQuantGroup));
  out.scales.resize(static_cast<size_t>(blocks));
  out.sums.resize(static_cast<size_t>(blocks));
  const __m512 abs_mask = _mm512_castsi512_ps(_mm512_set1_epi32(0x7fffffff));
  const __m512 lo = _mm512_set1_ps(-127.0f), hi = _mm512_set1_ps(127.0f);
  for (int64_t b = 0; b < blocks; ++b) {
    const int64_t k0 = b * kQuantGroup;
    const __mmask16 m0 = first_lanes(cols - k0), m1 = first_lanes(cols - k0 - 16);
    const __m512 v0 = _mm512_maskz_loadu_ps(m0, x + k0), v1 = _mm512_maskz_loadu_ps(m1, x + k0 + 16);
    const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_and_ps(v0, abs_mask), _mm512_and_ps(v1, abs_mask)));
    const float s = amax / 127.0f;
    const float inv = s > 0.0f ? 127.0f / amax : 0.0f;
    const __m512 vinv = _mm512_set1_ps(inv);
    // Round half to even, as nearbyint in the default rounding mode.
    constexpr int kNearest = _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC;
    const __m512i q0 = _mm512_cvtps_epi32(
        _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_roundscale_ps(_mm512_mul_ps(v0, vinv), kNearest))));
    const __m512i q1 = _mm512_cvtps_epi32(
        _mm512_min_ps(hi, _mm512_max_ps(lo, _mm512_roundscale_ps(_mm512_mul_ps(v1, vinv), kNearest))));
    int8_t* dst = out.values.data() + k0;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm512_cvtepi32_epi8(q0));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm512_cvtepi32_epi8(q1));
    out.scales[b] = s;
    out.sums[b] = _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
  }
}

void float_gemv_avx512(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  switch (w.format) {
    case WeightFormat::F32: return float_gemv<WeightFormat::F32>(x, w, n0, n1, y);
    case WeightFormat::BF16: return float_gemv<WeightFormat::BF16>(x, w, n0, n1, y);
    case WeightFormat::F16: return float_gemv<WeightFormat::F16>(x, w, n0, n1, y);
    default: return;
  }
}

void quant_gemv_avx512(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1,
                       float* y) {
  if (w.format == WeightFormat::Q8) quant_gemv<WeightFormat::Q8>(a, w, tile0, tile1, y);
  else quant_gemv<WeightFormat::Q4>(a, w, tile0, tile1, y);
}

}  // namespace qwen3vl::kernels
