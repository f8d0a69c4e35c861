// Internal, AVX-512 only (include from *_avx512.cpp files): in-register
// transpose of a 16×16 float block, shared by the GEMM weight packing and the
// attention key packing.
#pragma once
#include <immintrin.h>

namespace qwen3vl::kernels {

// In-register transpose of a 16×16 float block.
inline void transpose16x16(__m512 r[16]) {
  __m512 t[16];
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

}  // namespace qwen3vl::kernels
