// Internal, AVX2 only (include from *_avx2.cpp files): the vector operations
// of simd_avx512.h (same names, same results) for 8-float vectors with
// AVX2 + FMA + F16C, so the width-generic kernels (kernels/*_simd.h) also run
// on machines without AVX-512.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

struct Avx2 {
  static constexpr int kLanes = 8;
  static constexpr int kRegisters = 16;
  static constexpr const char* kName = "avx2";
  // Quantized GEMM tile: 4 activation rows × 2 row vectors (one weight
  // tile), Q4 nibbles unpacked once per block of activation rows
  // (matmul_simd.h unpack_q4): without vpdpbusd every int8 product costs a
  // vpmaddubsw and an add, so splitting nibbles per tile showed; measured
  // on Zen 4 (single thread, 4B shapes): 4 × 2 unpacked ~255 GOPS, 3 × 2
  // unpacked ~252, 4 × 2 packed ~235, the former 2 × 2 packed ~222.
  static constexpr int kQuantRowsX = 4;
  static constexpr int kQuantRowVecs = 2;
  static constexpr bool kUnpackQ4 = true;
  using F = __m256;
  using I = __m256i;

  // ------------------------------------------------------------ float lanes
  static F zero() { return _mm256_setzero_ps(); }
  static F set1(float v) { return _mm256_set1_ps(v); }
  static F load(const float* p) { return _mm256_loadu_ps(p); }
  static void store(float* p, F v) { _mm256_storeu_ps(p, v); }
  // All-ones in the first n lanes (n clamped to [0, 8]).
  static I first_lanes(int64_t n) {
    const int k = static_cast<int>(std::clamp<int64_t>(n, 0, 8));
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(k), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  }
  // vmaskmov never touches memory of masked-off lanes.
  static F load_first(const float* p, int64_t n) { return _mm256_maskload_ps(p, first_lanes(n)); }
  static void store_first(float* p, F v, int64_t n) { _mm256_maskstore_ps(p, first_lanes(n), v); }
  static F keep_first(F v, int64_t n, float fill) {
    return _mm256_blendv_ps(_mm256_set1_ps(fill), v, _mm256_castsi256_ps(first_lanes(n)));
  }
  static F add(F a, F b) { return _mm256_add_ps(a, b); }
  static F sub(F a, F b) { return _mm256_sub_ps(a, b); }
  static F mul(F a, F b) { return _mm256_mul_ps(a, b); }
  static F div(F a, F b) { return _mm256_div_ps(a, b); }
  static F max(F a, F b) { return _mm256_max_ps(a, b); }
  static F min(F a, F b) { return _mm256_min_ps(a, b); }
  static F abs(F a) { return _mm256_and_ps(a, _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff))); }
  static F fmadd(F a, F b, F c) { return _mm256_fmadd_ps(a, b, c); }
  static F fnmadd(F a, F b, F c) { return _mm256_fnmadd_ps(a, b, c); }
  static float reduce_add(F v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static float reduce_max(F v) {
    __m128 s = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_max_ps(s, _mm_movehl_ps(s, s));
    s = _mm_max_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
  }
  static F round_nearest(F v) { return _mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC); }
  // p · 2^n for integral n in [-151, 128], as vscalefps: 2^n is applied as
  // two normal powers of two, so the only rounding is the last multiply
  // (which yields the correctly rounded subnormal, or 0).
  static F scale_pow2(F p, F n) {
    const __m256i ni = _mm256_cvtps_epi32(n);
    const __m256i n1 = _mm256_srai_epi32(ni, 1);
    const __m256i n2 = _mm256_sub_epi32(ni, n1);
    const __m256i bias = _mm256_set1_epi32(127);
    const F p1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const F p2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
    return _mm256_mul_ps(_mm256_mul_ps(p, p1), p2);
  }

  // -------------------------------------------------------- widening loads
  static F load_f16(const uint16_t* p) { return _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F bf16_to_f32(__m128i h) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16)); }
  static F load_bf16(const uint16_t* p) { return bf16_to_f32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p))); }
  static F load_i8(const int8_t* p) {
    return _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
  // 16-bit elements have no masked load: the first n go through a zeroed buffer.
  static __m128i load_u16_first(const uint16_t* p, int64_t n) {
    alignas(16) uint16_t buffer[8] = {};
    std::memcpy(buffer, p, static_cast<size_t>(std::clamp<int64_t>(n, 0, 8)) * 2);
    return _mm_load_si128(reinterpret_cast<const __m128i*>(buffer));
  }
  static F load_f16_first(const uint16_t* p, int64_t n) { return _mm256_cvtph_ps(load_u16_first(p, n)); }
  static F load_bf16_first(const uint16_t* p, int64_t n) { return bf16_to_f32(load_u16_first(p, n)); }

  // In-register transpose of a kLanes × kLanes block.
  static void transpose(F r[8]) {
    F t[8];
    for (int i = 0; i < 4; ++i) {
      t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
      t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    // r[4g + c] now holds column c (low half) and column 4 + c (high half)
    // of rows 4g .. 4g+3.
    for (int g = 0; g < 2; ++g) {
      const __m256d a = _mm256_castps_pd(t[4 * g]), b = _mm256_castps_pd(t[4 * g + 1]);
      const __m256d c = _mm256_castps_pd(t[4 * g + 2]), d = _mm256_castps_pd(t[4 * g + 3]);
      r[4 * g + 0] = _mm256_castpd_ps(_mm256_unpacklo_pd(a, c));
      r[4 * g + 1] = _mm256_castpd_ps(_mm256_unpackhi_pd(a, c));
      r[4 * g + 2] = _mm256_castpd_ps(_mm256_unpacklo_pd(b, d));
      r[4 * g + 3] = _mm256_castpd_ps(_mm256_unpackhi_pd(b, d));
    }
    for (int c = 0; c < 4; ++c) {
      t[c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x20);
      t[4 + c] = _mm256_permute2f128_ps(r[c], r[4 + c], 0x31);
    }
    for (int i = 0; i < 8; ++i) r[i] = t[i];
  }

  static void prefetch(const void* p) { _mm_prefetch(static_cast<const char*>(p), _MM_HINT_T0); }

  // ----------------------------------------------------------- int32 lanes
  static I to_int_nearest(F v) { return _mm256_cvtps_epi32(v); }
  static F to_float(I v) { return _mm256_cvtepi32_ps(v); }
  static int32_t reduce_add_i32(I v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
    return _mm_cvtsi128_si32(s);
  }
  static I add_i32(I a, I b) { return _mm256_add_epi32(a, b); }
  static void store_i8(int8_t* p, I v) {
    const __m128i w = _mm_packs_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(p), _mm_packs_epi16(w, w));
  }

  // ------------------------------------------------------ int8 dot products
  static I load_bytes(const void* p) { return _mm256_loadu_si256(static_cast<const __m256i*>(p)); }
  static void store_bytes(void* p, I v) { _mm256_storeu_si256(static_cast<__m256i*>(p), v); }
  static I broadcast4(const int8_t* p) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return _mm256_set1_epi32(v);
  }
  static F load_f16_scales(const void* p) {
    return _mm256_cvtph_ps(_mm_loadu_si128(static_cast<const __m128i*>(p)));
  }

  // See Avx512::QuantDot. Without vpdpbusd, vpmaddubsw multiplies unsigned
  // by signed bytes into saturating int16 pairs, so each format takes the
  // route that can never saturate:
  //  Q4: stored nibbles (0..15) times x: a pair is at most 2·15·127 = 3810,
  //      so a whole group (8 pair sums per lane) stays below 32767 in int16;
  //      one vpmaddwd per group widens it, and the offset 8 comes off via Σx.
  //  Q8: the stored byte minus 128 is the signed weight; |w| times x with w's
  //      sign moved onto x keeps a pair within 2·127·127 = 32258, widened to
  //      int32 after every product.
  template <WeightFormat Fmt>
  struct QuantDot;
  // Integer adds are associative, so GCC rewrites a chain of dot
  // accumulations into one tree over all products of a group, keeping
  // dozens of partial products alive at once and spilling them (measured:
  // the AVX2 Q4 tile ran at half speed). An empty asm that "modifies" the
  // accumulator pins the chain's order, so each product is added as it is
  // made.
  static I keep_order(I v) {
    __asm__("" : "+x"(v));
    return v;
  }
  static I low_nibbles(I raw) { return _mm256_and_si256(raw, _mm256_set1_epi8(0x0f)); }
  static I high_nibbles(I raw) { return _mm256_and_si256(_mm256_srli_epi16(raw, 4), _mm256_set1_epi8(0x0f)); }
};

template <>
struct Avx2::QuantDot<WeightFormat::Q4> {
  using Acc = __m256i;  // int16 pair sums
  using W = __m256i;
  static W prepare(I stored) { return stored; }
  static Acc start(int32_t) { return _mm256_setzero_si256(); }
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc dot(Acc acc, W w, I x4) { return keep_order(_mm256_add_epi16(acc, _mm256_maddubs_epi16(w, x4))); }
  static Acc merge(Acc a, Acc b) { return _mm256_add_epi16(a, b); }
  static I finish(Acc acc, int32_t xsum) {
    return _mm256_add_epi32(_mm256_madd_epi16(acc, _mm256_set1_epi16(1)), _mm256_set1_epi32(-8 * xsum));
  }
};

template <>
struct Avx2::QuantDot<WeightFormat::Q8> {
  using Acc = __m256i;  // int32
  struct W {
    __m256i magnitude, sign;  // |q| and q (whose sign vpsignb moves onto x)
  };
  static W prepare(I stored) {
    const __m256i q = _mm256_xor_si256(stored, _mm256_set1_epi8(static_cast<char>(0x80)));
    return {_mm256_abs_epi8(q), q};
  }
  static Acc start(int32_t) { return _mm256_setzero_si256(); }
  static Acc zero() { return _mm256_setzero_si256(); }
  static Acc dot(Acc acc, const W& w, I x4) {
    const __m256i pairs = _mm256_maddubs_epi16(w.magnitude, _mm256_sign_epi8(x4, w.sign));
    return keep_order(_mm256_add_epi32(acc, _mm256_madd_epi16(pairs, _mm256_set1_epi16(1))));
  }
  static Acc merge(Acc a, Acc b) { return _mm256_add_epi32(a, b); }
  static I finish(Acc acc, int32_t) { return acc; }
};

}  // namespace qwen3vl::kernels
