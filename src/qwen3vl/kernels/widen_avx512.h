// Internal, AVX-512 only (include from *_avx512.cpp files): loading float
// weight rows of any float format (F32, BF16, F16) widened to float32, shared
// by the GEMM and the decode GEMV kernels.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl::kernels {

template <WeightFormat F>
constexpr int64_t element_bytes() {
  return F == WeightFormat::F32 ? 4 : 2;
}

// A mask of the first n lanes (all 16 for n >= 16, none for n <= 0).
inline __mmask16 first_lanes(int64_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff) : static_cast<__mmask16>((1u << std::max<int64_t>(n, 0)) - 1);
}

// 16 weights starting at column k, widened to float32 (exact for all three formats).
template <WeightFormat F>
inline __m512 load16(const void* row, int64_t k) {
  if constexpr (F == WeightFormat::F32) {
    return _mm512_loadu_ps(static_cast<const float*>(row) + k);
  } else {
    const __m256i h = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(static_cast<const uint16_t*>(row) + k));
    if constexpr (F == WeightFormat::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    else return _mm512_cvtph_ps(h);
  }
}

// Same, for the first popcount(mask) columns only (others read as 0, never touched in memory).
template <WeightFormat F>
inline __m512 load16_masked(const void* row, int64_t k, __mmask16 mask) {
  if constexpr (F == WeightFormat::F32) {
    return _mm512_maskz_loadu_ps(mask, static_cast<const float*>(row) + k);
  } else {
    const __m256i h = _mm256_maskz_loadu_epi16(mask, static_cast<const uint16_t*>(row) + k);
    if constexpr (F == WeightFormat::BF16) return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
    else return _mm512_cvtph_ps(h);
  }
}

}  // namespace qwen3vl::kernels
