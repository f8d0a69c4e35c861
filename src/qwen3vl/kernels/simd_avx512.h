// Internal, AVX-512 only (include from *_avx512.cpp files): the vector
// operations the width-generic kernels (kernels/*_simd.h) are written in, for
// 16-float vectors. simd_avx2.h offers the same names for 8-float vectors, so
// each kernel is written once and compiled at both widths.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

struct Avx512 {
  static constexpr int kLanes = 16;      // floats (or int32) per vector
  static constexpr int kRegisters = 32;  // vector registers the compiler may use
  static constexpr const char* kName = "avx512";
  // Quantized GEMM tile: 6 activation rows × 2 row vectors (two weight
  // tiles): 12 integer and 12 float accumulators, enough independent
  // vpdpbusd chains to hide their latency (4 rows left the vision GEMMs
  // latency-bound), still within the 32 registers.
  static constexpr int kQuantRowsX = 6;
  static constexpr int kQuantRowVecs = 2;
  // vpdpbusd makes each product one instruction, and there unpacking Q4
  // nibbles once per block measured slower (351 vs 371 GOPS, Zen 4).
  static constexpr bool kUnpackQ4 = false;
  using F = __m512;
  using I = __m512i;

  // ------------------------------------------------------------ float lanes
  static F zero() { return _mm512_setzero_ps(); }
  static F set1(float v) { return _mm512_set1_ps(v); }
  static F load(const float* p) { return _mm512_loadu_ps(p); }
  static void store(float* p, F v) { _mm512_storeu_ps(p, v); }
  static __mmask16 first_lanes(int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1);
  }
  // The first n lanes (n may exceed kLanes); the others read as 0 and are
  // never touched in memory.
  static F load_first(const float* p, int64_t n) { return _mm512_maskz_loadu_ps(first_lanes(n), p); }
  static void store_first(float* p, F v, int64_t n) { _mm512_mask_storeu_ps(p, first_lanes(n), v); }
  // Lanes >= n replaced by `fill`.
  static F keep_first(F v, int64_t n, float fill) {
    return _mm512_mask_blend_ps(first_lanes(n), _mm512_set1_ps(fill), v);
  }
  static F add(F a, F b) { return _mm512_add_ps(a, b); }
  static F sub(F a, F b) { return _mm512_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm512_mul_ps(a, b); }
  static F div(F a, F b) { return _mm512_div_ps(a, b); }
  static F max(F a, F b) { return _mm512_max_ps(a, b); }
  static F min(F a, F b) { return _mm512_min_ps(a, b); }
  static F abs(F a) { return _mm512_abs_ps(a); }
  static F fmadd(F a, F b, F c) { return _mm512_fmadd_ps(a, b, c); }   // a·b + c
  static F fnmadd(F a, F b, F c) { return _mm512_fnmadd_ps(a, b, c); } // c - a·b
  static float reduce_add(F v) { return _mm512_reduce_add_ps(v); }
  static float reduce_max(F v) { return _mm512_reduce_max_ps(v); }
  static F round_nearest(F v) { return _mm512_roundscale_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p · 2^n for integral n in [-151, 128] (results below the normal range
  // come out as correctly rounded subnormals or 0).
  static F scale_pow2(F p, F n) { return _mm512_scalef_ps(p, n); }

  // -------------------------------------------------------- widening loads
  static F load_f16(const uint16_t* p) { return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p))); }
  static F load_bf16(const uint16_t* p) {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }
  static F load_i8(const int8_t* p) {
    return _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))));
  }
  static F load_f16_first(const uint16_t* p, int64_t n) { return _mm512_cvtph_ps(_mm256_maskz_loadu_epi16(first_lanes(n), p)); }
  static F load_bf16_first(const uint16_t* p, int64_t n) {
    const __m256i h = _mm256_maskz_loadu_epi16(first_lanes(n), p);
    return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
  }

  // In-register transpose of a kLanes × kLanes block.
  static void transpose(F r[16]) {
    F t[16];
    for (int i = 0; i < 8; ++i) {
      t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g+3.
    for (int g = 0; g < 4; ++g) {
      const __m512d a = _mm512_castps_pd(t[4 * g]), b = _mm512_castps_pd(t[4 * g + 1]);
      const __m512d c = _mm512_castps_pd(t[4 * g + 2]), d = _mm512_castps_pd(t[4 * g + 3]);
      r[4 * g + 0] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, c));
      r[4 * g + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, c));
      r[4 * g + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(b, d));
      r[4 * g + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; ++c) {
      t[4 * c + 0] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);
      t[4 * c + 1] = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xdd);
      t[4 * c + 2] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
      t[4 * c + 3] = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xdd);
    }
    for (int c = 0; c < 4; ++c) {
      r[0 + c] = _mm512_shuffle_f32x4(t[4 * c + 0], t[4 * c + 2], 0x88);
      r[4 + c] = _mm512_shuffle_f32x4(t[4 * c + 1], t[4 * c + 3], 0x88);
      r[8 + c] = _mm512_shuffle_f32x4(t[4 * c + 0], t[4 * c + 2], 0xdd);
      r[12 + c] = _mm512_shuffle_f32x4(t[4 * c + 1], t[4 * c + 3], 0xdd);
    }
  }

  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

  // ----------------------------------------------------------- int32 lanes
  static I to_int_nearest(F v) { return _mm512_cvtps_epi32(v); }  // round half to even (default MXCSR)
  static F to_float(I v) { return _mm512_cvtepi32_ps(v); }
  static int32_t reduce_add_i32(I v) { return _mm512_reduce_add_epi32(v); }
  static I add_i32(I a, I b) { return _mm512_add_epi32(a, b); }
  // Stores the kLanes int32 lanes (each in [-128, 127]) as int8.
  static void store_i8(int8_t* p, I v) { _mm_storeu_si128(reinterpret_cast<__m128i*>(p), _mm512_cvtepi32_epi8(v)); }

  // ------------------------------------------------------ int8 dot products
  // One vector holds 4 inputs of kLanes weight rows (the Q8/Q4 chunk layout
  // of kernels/quant.h): dot accumulators are int32 per row.
  static I load_bytes(const void* p) { return _mm512_loadu_si512(p); }
  static void store_bytes(void* p, I v) { _mm512_storeu_si512(p, v); }
  static I broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm512_set1_epi32(v);
  }
  static F load_f16_scales(const void* p) {
    return _mm512_cvtph_ps(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
  }

  // Integer dot accumulation per weight format. Weights arrive as stored
  // (q + offset, unsigned; Q4 already split into nibbles); prepare() makes
  // the operand dot() takes, once per loaded weight vector; an accumulator
  // runs from start(Σx) through dot() calls (merge() adds two chains) and
  // finish() turns it into exactly Σ q·x per lane (int32).
  template <WeightFormat Fmt>
  struct QuantDot {
    static constexpr int kOffset = Fmt == WeightFormat::Q8 ? 128 : 8;
    using Acc = __m512i;
    using W = __m512i;
    static W prepare(I stored) { return stored; }
    // vpdpbusd multiplies unsigned by signed bytes: the stored (offset)
    // weights directly; the offset comes off once per group via Σx.
    static Acc start(int32_t xsum) { return _mm512_set1_epi32(-kOffset * xsum); }
    static Acc zero() { return _mm512_setzero_si512(); }
    static Acc dot(Acc acc, W w, I x4) { return _mm512_dpbusd_epi32(acc, w, x4); }
    static Acc merge(Acc a, Acc b) { return _mm512_add_epi32(a, b); }
    static I finish(Acc acc, int32_t /*xsum: already in start*/) { return acc; }
  };
  static I low_nibbles(I raw) { return _mm512_and_si512(raw, _mm512_set1_epi8(0x0f)); }
  static I high_nibbles(I raw) { return _mm512_and_si512(_mm512_srli_epi16(raw, 4), _mm512_set1_epi8(0x0f)); }
};

}  // namespace qwen3vl::kernels
