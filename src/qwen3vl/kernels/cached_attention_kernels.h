// Internal: the per-ISA decode-attention kernels behind cached_attention(),
// written once in cached_attention_simd.h and instantiated by
// cached_attention_avx2.cpp / cached_attention_avx512.cpp.
#pragma once
#include <cstdint>
#include <vector>

#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/kernels/cpu_features.h"

namespace qwen3vl::kernels {

// Largest head_dim the SIMD kernels take (they hold a key row in registers).
constexpr int kCachedAttentionMaxHeadDim = 256;

// One (kv head, query row) work item: every query head sharing the kv head.
// Returns false when the shape is not handled (head_dim not a multiple of
// the vector width or above the maximum, Q8 groups not whole vectors, keys
// and values of different types): the caller runs the scalar item.
struct CachedAttentionKernels {
  bool (*item)(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, int kv_head,
               int64_t row, float* out, std::vector<float>& scores) = nullptr;
};

const CachedAttentionKernels& cached_attention_kernels_avx2();
const CachedAttentionKernels& cached_attention_kernels_avx512();

// Null for the scalar level.
inline const CachedAttentionKernels* cached_attention_kernels_for(IsaLevel isa) {
  return kernels_for_isa(isa, cached_attention_kernels_avx2, cached_attention_kernels_avx512);
}

}  // namespace qwen3vl::kernels
