// Internal: the per-ISA attention kernels behind attention() (attention.cpp
// dispatches). The float32 blocked kernel is written once
// (attention_simd.h) and exported per ISA as a table; the bf16-product
// kernel exists only for AVX-512 BF16. Call an ISA's kernels only when
// active_isa_level() allows it: their files are compiled for that ISA.
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/attention.h"
#include "qwen3vl/kernels/cpu_features.h"

namespace qwen3vl::kernels {

// Query rows handled by one task (tasks are (head, query block) pairs; the
// per-row softmax state and outputs of a task stay in L1/L2).
constexpr int64_t kAttentionQueryBlock = 128;

struct AttentionKernels {
  int lanes = 0;       // head_dim must be a multiple of this
  int block_keys = 0;  // keys per packed block
  // Transposes key block `block` of kv head `kv_head` into k_packed (block b
  // of kv head h at (h * blocks + b) * block_keys * head_dim floats, blocks =
  // ceil(n_kv / block_keys)).
  void (*pack_keys)(const float* k, const AttentionShape& s, int kv_head, int64_t block, float* k_packed) = nullptr;
  // Query rows [i0, i1) of query head `head` against every key they may see.
  void (*rows)(const float* q, const float* k_packed, const float* v, const AttentionShape& s, int head, int64_t i0,
               int64_t i1, float* out) = nullptr;
};

const AttentionKernels& attention_kernels_avx2();
const AttentionKernels& attention_kernels_avx512();

// Null for the scalar level (attention.cpp's row-at-a-time loop).
inline const AttentionKernels* attention_kernels_for(IsaLevel isa) {
  return kernels_for_isa(isa, attention_kernels_avx2, attention_kernels_avx512);
}

// bf16 products (AttentionShape::inputs_format quantized); needs AVX-512 BF16 and
// head_dim % 32 == 0. Keys and values are packed once per call (every query
// block then reads them contiguously, at half the bytes): key block b of kv
// head h starts at (h * blocks + b) * kAttentionBf16BlockKeys * head_dim / 2
// in both packed arrays (32-bit units holding bf16 pairs).
constexpr int64_t kAttentionBf16BlockKeys = 64;
void attention_pack_bf16_avx512(const float* k, const float* v, const AttentionShape& s, int kv_head, int64_t block,
                                uint32_t* k_packed, uint32_t* v_packed);
void attention_rows_bf16_avx512(const float* q, const uint32_t* k_packed, const uint32_t* v_packed,
                                const AttentionShape& s, int head, int64_t i0, int64_t i1, float* out);

}  // namespace qwen3vl::kernels
