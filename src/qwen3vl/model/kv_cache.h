// Keys and values of every past token, per decoder layer, so each new token
// attends to the whole context without recomputing it. Sized from the context
// length the caller asks for (not the model's maximum, which would be GBs).
// The storage layout stays private: the decoder only writes rows and asks the
// cache to attend, so a lower-precision layout can replace float32 without
// touching model code.
#pragma once
#include <cstdint>
#include <memory>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

class KVCache {
 public:
  KVCache(int n_layers, int n_kv_heads, int head_dim, int64_t capacity);

  int n_layers() const { return n_layers_; }
  int n_kv_heads() const { return n_kv_heads_; }
  int head_dim() const { return head_dim_; }
  int64_t capacity() const { return capacity_; }
  // Tokens whose keys/values are committed (the position of the next token).
  int64_t size() const { return size_; }
  size_t bytes() const;

  // Throws Error when n more tokens do not fit.
  void ensure_room(int64_t n) const;

  // Stores n new rows (keys and values [n, n_kv_heads*head_dim]) for `layer`
  // right after the committed ones. They count only after commit(n).
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
  float* keys(int layer) const;
  float* values(int layer) const;

  int n_layers_;
  int n_kv_heads_;
  int head_dim_;
  int64_t row_width_;  // n_kv_heads * head_dim
  int64_t capacity_;
  int64_t size_ = 0;
  // One block for all layers: [layer][k|v][capacity][row_width]. Left
  // uninitialised so untouched context costs no physical memory.
  std::unique_ptr<float[]> storage_;
};

}  // namespace qwen3vl
