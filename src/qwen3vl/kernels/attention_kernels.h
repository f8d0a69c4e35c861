// Internal: the per-ISA attention kernels behind attention() (attention.cpp
// dispatches). Call an ISA's kernel only when active_isa_level() allows it:
// its file is compiled for that ISA.
#pragma once
#include <cstdint>

#include "qwen3vl/kernels/attention.h"

namespace qwen3vl::kernels {

// Query rows handled by one task (tasks are (head, query block) pairs; the
// per-row softmax state and outputs of a task stay in L1/L2).
constexpr int64_t kAttentionQueryBlock = 128;
// Keys per block (the width of one score tile).
constexpr int64_t kAttentionKeyBlock = 64;
// head_dim must be a multiple of this for the blocked kernel.
constexpr int kAttentionDimMultiple = 16;

// Query rows [i0, i1) of query head `head` (all keys they may see):
// blocks of scores Q·Kᵀ, an online softmax per row, then P·V, all with
// float32 FMAs. Same results as attention_reference up to summation order
// and a ~1-ulp exponential. Keys are read from `k_packed`, transposed once
// per call by attention_pack_keys_avx512 (block b of kv head h at
// (h * blocks + b) * kAttentionKeyBlock * head_dim floats).
void attention_pack_keys_avx512(const float* k, const AttentionShape& s, int kv_head, int64_t block,
                                float* k_packed);
void attention_rows_avx512(const float* q, const float* k_packed, const float* v, const AttentionShape& s,
                           int head, int64_t i0, int64_t i1, float* out);

// bf16 products (AttentionShape::allow_bf16); needs AVX-512 BF16 and
// head_dim % 32 == 0. Keys and values are packed once per call (every query
// block then reads them contiguously, at half the bytes): key block b of kv
// head h starts at (h * blocks + b) * kAttentionKeyBlock * head_dim / 2 in
// both packed arrays (32-bit units holding bf16 pairs).
int64_t attention_key_blocks(int64_t n_kv);
void attention_pack_bf16_avx512(const float* k, const float* v, const AttentionShape& s, int kv_head, int64_t block,
                                uint32_t* k_packed, uint32_t* v_packed);
void attention_rows_bf16_avx512(const float* q, const uint32_t* k_packed, const uint32_t* v_packed,
                                const AttentionShape& s, int head, int64_t i0, int64_t i1, float* out);

}  // namespace qwen3vl::kernels
