#include "qwen3vl/model/kv_cache.h"

#include <cmath>
#include <cstring>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/attention.h"

namespace qwen3vl {

KVCache::KVCache(int n_layers, int n_kv_heads, int head_dim, int64_t capacity)
    : n_layers_(n_layers),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      row_width_(static_cast<int64_t>(n_kv_heads) * head_dim),
      capacity_(capacity) {
  check(n_layers > 0 && n_kv_heads > 0 && head_dim > 0, "KV cache: layer/head sizes must be positive");
  check(capacity > 0, "KV cache: context length must be positive, got " + std::to_string(capacity));
  const size_t n = static_cast<size_t>(n_layers) * 2 * static_cast<size_t>(capacity) * row_width_;
  try {
    storage_.reset(new float[n]);
  } catch (const std::bad_alloc&) {
    throw Error("KV cache: cannot allocate " + std::to_string(n * 4 / (1 << 20)) + " MiB for a context of " +
                std::to_string(capacity) + " tokens; ask for a shorter context");
  }
}

size_t KVCache::bytes() const {
  return static_cast<size_t>(n_layers_) * 2 * static_cast<size_t>(capacity_) * row_width_ * sizeof(float);
}

float* KVCache::keys(int layer) const {
  return storage_.get() + static_cast<size_t>(layer) * 2 * capacity_ * row_width_;
}
float* KVCache::values(int layer) const { return keys(layer) + capacity_ * row_width_; }

void KVCache::ensure_room(int64_t n) const {
  if (size_ + n > capacity_)
    throw Error("context full: " + std::to_string(size_) + " tokens cached + " + std::to_string(n) +
                " new exceed the context length of " + std::to_string(capacity_) +
                " tokens (raise the context size)");
}

void KVCache::write(int layer, int64_t n, const float* k, const float* v) {
  check(layer >= 0 && layer < n_layers_, "KV cache: layer " + std::to_string(layer) + " out of range");
  ensure_room(n);
  const size_t bytes_per_chunk = static_cast<size_t>(n * row_width_) * sizeof(float);
  std::memcpy(keys(layer) + size_ * row_width_, k, bytes_per_chunk);
  std::memcpy(values(layer) + size_ * row_width_, v, bytes_per_chunk);
}

void KVCache::attend(int layer, const float* q, int64_t n_q, int64_t q_stride, int n_heads, float* out,
                     int64_t out_stride, ThreadPool& pool) const {
  check(layer >= 0 && layer < n_layers_, "KV cache: layer " + std::to_string(layer) + " out of range");
  ensure_room(n_q);
  AttentionShape s;
  s.n_q = n_q;
  s.n_kv = size_ + n_q;
  s.n_heads = n_heads;
  s.n_kv_heads = n_kv_heads_;
  s.head_dim = head_dim_;
  s.q_stride = q_stride;
  s.kv_stride = row_width_;
  s.out_stride = out_stride;
  s.scale = 1.0f / std::sqrt(static_cast<float>(head_dim_));
  s.causal = true;
  s.q_offset = size_;
  attention(q, keys(layer), values(layer), s, out, pool);
}

void KVCache::commit(int64_t n) {
  ensure_room(n);
  size_ += n;
}

void KVCache::truncate(int64_t n) {
  check(n >= 0 && n <= size_, "KV cache: cannot truncate " + std::to_string(size_) + " cached tokens to " +
                                  std::to_string(n));
  size_ = n;
}

}  // namespace qwen3vl
