// Keys and values of every past token, per decoder layer, so each new token
// attends to the whole context without recomputing it. Sized from the context
// length the caller asks for (not the model's maximum, which would be GBs).
// The storage layout stays private: the decoder only writes rows and asks the
// cache to attend, so the element type is a choice of the cache alone.
//
// Element types (decode reads the whole cache once per token, so its bytes
// are the attention's cost):
//   f32   exact: the reference path.
//   f16   half the bytes; keys/values rounded to f16 (11-bit significand).
//   bf16  half the bytes; 8-bit significand (coarser than f16, f32's range).
//   q8    a quarter of the bytes plus one f32 scale per 32 values
//         (symmetric int8, scale = amax/127 per group).
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

enum class KVCacheType { F32, F16, BF16, Q8 };

const char* kv_cache_type_name(KVCacheType t);
// "f32", "f16", "bf16", "q8" (also "int8"); throws Error naming the choices.
KVCacheType parse_kv_cache_type(const std::string& name);

class KVCache {
 public:
  KVCache(int n_layers, int n_kv_heads, int head_dim, int64_t capacity, KVCacheType type = KVCacheType::F32);

  int n_layers() const { return n_layers_; }
  int n_kv_heads() const { return n_kv_heads_; }
  int head_dim() const { return head_dim_; }
  int64_t capacity() const { return capacity_; }
  KVCacheType type() const { return type_; }
  // Tokens whose keys/values are committed (the position of the next token).
  int64_t size() const { return size_; }
  // Bytes of the whole cache (all layers, full capacity).
  size_t bytes() const;
  // Bytes one layer's keys+values occupy for `tokens` tokens (what attention reads).
  size_t bytes_per_layer(int64_t tokens) const;

  // Throws Error when n more tokens do not fit.
  void ensure_room(int64_t n) const;

  // Stores n new rows (keys and values [n, n_kv_heads*head_dim]) for `layer`
  // right after the committed ones, converted to the cache's element type.
  // They count only after commit(n).
  void write(int layer, int64_t n, const float* k, const float* v);

  // Attention of n_q query rows q ([n_q, q_stride], n_heads heads) against the
  // committed rows plus the n_q just written for `layer`, causally (query i
  // sees everything up to its own row). out: [n_q, out_stride].
  void attend(int layer, const float* q, int64_t n_q, int64_t q_stride, int n_heads, float* out,
              int64_t out_stride, ThreadPool& pool) const;

  // Makes the n rows written to every layer part of the context.
  void commit(int64_t n);
  // Forgets everything after the first n tokens (prompt-cache reuse, undo).
  void truncate(int64_t n);
  void clear() { size_ = 0; }

 private:
  size_t element_bytes() const;
  // Start of layer's keys (which = 0) or values (which = 1).
  uint8_t* rows(int layer, int which) const;
  float* scales(int layer, int which) const;
  void store_rows(int layer, int which, int64_t first, int64_t n, const float* src);

  int n_layers_;
  int n_kv_heads_;
  int head_dim_;
  int64_t row_width_;  // n_kv_heads * head_dim
  int64_t capacity_;
  KVCacheType type_;
  int q8_group_ = 0;   // values per scale (q8 only)
  int64_t size_ = 0;
  // One block for all layers: [layer][k|v][capacity][row_width] elements, and
  // for q8 [layer][k|v][capacity][row_width / group] scales. Left
  // uninitialised so untouched context costs no physical memory.
  std::unique_ptr<uint8_t[]> storage_;
  std::unique_ptr<float[]> scales_;
  // Prefill with a compact cache widens the visible rows here and runs the
  // general attention kernel on them.
  mutable std::vector<float> widened_;
};

}  // namespace qwen3vl
