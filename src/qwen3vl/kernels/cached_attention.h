// Attention of a few new query rows against keys/values stored in a compact
// element format (a KV cache in f32, f16, bf16 or int8). This is the decode
// step's attention: one query row per head reads every cached key and value
// once, so the cost is the bytes of the cache and the format decides it.
// GQA: the query heads sharing a key/value head are processed together, so
// each cached row is widened once for all of them.
//
// Numerics: keys/values are widened to float32 (int8: q·scale), scores and
// the weighted sum are float32; the softmax is two-pass (max, then exp/sum).
// The SIMD kernel differs from cached_attention_reference only in summation
// order.
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

enum class KVElement { F32, F16, BF16, Q8 };

// Rows of keys (or values) of one layer. Element (row j, kv head h, dim d)
// is at data[j * row_stride + h * head_dim + d] (in elements of `type`).
// Q8: element value = int8 · scales[j * (row_stride / group) + (h * head_dim + d) / group].
struct KVRows {
  KVElement type = KVElement::F32;
  const void* data = nullptr;
  const float* scales = nullptr;  // Q8 only
  int64_t row_stride = 0;
  int group = 0;                  // Q8 only: elements sharing one scale (divides row_stride)
};

struct CachedAttentionShape {
  int64_t n_q = 0;         // query rows
  int n_heads = 0;         // query heads
  int n_kv_heads = 0;      // n_heads % n_kv_heads == 0
  int head_dim = 0;
  int64_t q_stride = 0;    // floats between query rows (head h at column h * head_dim)
  int64_t out_stride = 0;  // floats between output rows
  float scale = 0.0f;      // usually 1/sqrt(head_dim)
  // Causal: query row i sees rows 0 .. q_offset + i of the keys/values.
  int64_t q_offset = 0;
};

void cached_attention(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, float* out,
                      ThreadPool& pool);

// Plain scalar version (single thread): the reference the SIMD kernel is tested against.
void cached_attention_reference(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s,
                                float* out);

// Widens `count` elements of row j starting at column `col` to float32.
void kv_row_to_f32(const KVRows& rows, int64_t j, int64_t col, int64_t count, float* out);

// The other direction: rows [first, first + n) of a store laid out as KVRows
// describes (`data`, and for Q8 `scales`, writable) from n float32 rows of
// row_stride values. F16/BF16 round to nearest even; Q8 is symmetric int8 per
// group, scale = amax / 127, q = round(x / scale) in [-127, 127].
void store_kv_rows(const float* src, int64_t first, int64_t n, KVElement type, int64_t row_stride, int group,
                   void* data, float* scales);

}  // namespace qwen3vl
