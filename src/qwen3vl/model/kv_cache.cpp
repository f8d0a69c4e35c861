#include "qwen3vl/model/kv_cache.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/attention.h"
#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace {

// Up to this many new query rows the attention reads the cache in its own
// format (the decode kernel, one pass over the rows per query row); longer
// chunks (prefill) use the general tiled kernel.
constexpr int64_t kDecodeRows = 4;

KVElement element_of(KVCacheType t) {
  switch (t) {
    case KVCacheType::F32: return KVElement::F32;
    case KVCacheType::F16: return KVElement::F16;
    case KVCacheType::BF16: return KVElement::BF16;
    case KVCacheType::Q8: return KVElement::Q8;
  }
  return KVElement::F32;
}

}  // namespace

const char* kv_cache_type_name(KVCacheType t) {
  switch (t) {
    case KVCacheType::F32: return "f32";
    case KVCacheType::F16: return "f16";
    case KVCacheType::BF16: return "bf16";
    case KVCacheType::Q8: return "q8";
  }
  return "?";
}

KVCacheType parse_kv_cache_type(const std::string& name) {
  if (name == "f32") return KVCacheType::F32;
  if (name == "f16") return KVCacheType::F16;
  if (name == "bf16") return KVCacheType::BF16;
  if (name == "q8" || name == "int8") return KVCacheType::Q8;
  throw Error("unknown KV cache type '" + name + "' (choose f32, f16, bf16 or q8)");
}

KVCache::KVCache(int n_layers, int n_kv_heads, int head_dim, int64_t capacity, KVCacheType type)
    : n_layers_(n_layers),
      n_kv_heads_(n_kv_heads),
      head_dim_(head_dim),
      row_width_(static_cast<int64_t>(n_kv_heads) * head_dim),
      capacity_(capacity),
      type_(type) {
  check(n_layers > 0 && n_kv_heads > 0 && head_dim > 0, "KV cache: layer/head sizes must be positive");
  check(capacity > 0, "KV cache: context length must be positive, got " + std::to_string(capacity));
  if (type_ == KVCacheType::Q8) q8_group_ = head_dim % 32 == 0 ? 32 : head_dim % 16 == 0 ? 16 : head_dim;
  const size_t total = bytes();
  try {
    const size_t elements = static_cast<size_t>(n_layers) * 2 * static_cast<size_t>(capacity) * row_width_;
    storage_.reset(new uint8_t[elements * element_bytes()]);
    if (type_ == KVCacheType::Q8) scales_.reset(new float[elements / q8_group_]);
  } catch (const std::bad_alloc&) {
    throw Error("KV cache: cannot allocate " + std::to_string(total / (1 << 20)) + " MiB for a context of " +
                std::to_string(capacity) + " tokens; ask for a shorter context or a smaller --kv-cache type");
  }
}

size_t KVCache::element_bytes() const {
  switch (type_) {
    case KVCacheType::F32: return 4;
    case KVCacheType::F16:
    case KVCacheType::BF16: return 2;
    case KVCacheType::Q8: return 1;
  }
  return 4;
}

size_t KVCache::bytes_per_layer(int64_t tokens) const {
  size_t per_row = static_cast<size_t>(row_width_) * element_bytes();
  if (type_ == KVCacheType::Q8) per_row += static_cast<size_t>(row_width_ / q8_group_) * sizeof(float);
  return 2 * static_cast<size_t>(tokens) * per_row;
}

size_t KVCache::bytes() const { return static_cast<size_t>(n_layers_) * bytes_per_layer(capacity_); }

uint8_t* KVCache::rows(int layer, int which) const {
  const size_t block = static_cast<size_t>(capacity_) * row_width_ * element_bytes();
  return storage_.get() + (static_cast<size_t>(layer) * 2 + which) * block;
}

float* KVCache::scales(int layer, int which) const {
  const size_t block = static_cast<size_t>(capacity_) * (row_width_ / std::max(q8_group_, 1));
  return scales_.get() + (static_cast<size_t>(layer) * 2 + which) * block;
}

void KVCache::ensure_room(int64_t n) const {
  if (size_ + n > capacity_)
    throw Error("context full: " + std::to_string(size_) + " tokens cached + " + std::to_string(n) +
                " new exceed the context length of " + std::to_string(capacity_) +
                " tokens (raise the context size)");
}

void KVCache::store_rows(int layer, int which, int64_t first, int64_t n, const float* src) {
  store_kv_rows(src, first, n, element_of(type_), row_width_, q8_group_, rows(layer, which),
                type_ == KVCacheType::Q8 ? scales(layer, which) : nullptr);
}

void KVCache::write(int layer, int64_t n, const float* k, const float* v) {
  check(layer >= 0 && layer < n_layers_, "KV cache: layer " + std::to_string(layer) + " out of range");
  ensure_room(n);
  store_rows(layer, 0, size_, n, k);
  store_rows(layer, 1, size_, n, v);
}

void KVCache::attend(int layer, const float* q, int64_t n_q, int64_t q_stride, int n_heads, float* out,
                     int64_t out_stride, ThreadPool& pool) const {
  check(layer >= 0 && layer < n_layers_, "KV cache: layer " + std::to_string(layer) + " out of range");
  ensure_room(n_q);
  const float scale = 1.0f / std::sqrt(static_cast<float>(head_dim_));
  const int64_t n_kv = size_ + n_q;
  if (n_q <= kDecodeRows) {
    KVRows k, v;
    k.type = v.type = element_of(type_);
    k.data = rows(layer, 0);
    v.data = rows(layer, 1);
    k.row_stride = v.row_stride = row_width_;
    if (type_ == KVCacheType::Q8) {
      k.scales = scales(layer, 0);
      v.scales = scales(layer, 1);
      k.group = v.group = q8_group_;
    }
    CachedAttentionShape s;
    s.n_q = n_q;
    s.n_heads = n_heads;
    s.n_kv_heads = n_kv_heads_;
    s.head_dim = head_dim_;
    s.q_stride = q_stride;
    s.out_stride = out_stride;
    s.scale = scale;
    s.q_offset = size_;
    cached_attention(q, k, v, s, out, pool);
    return;
  }
  const float* keys = reinterpret_cast<const float*>(rows(layer, 0));
  const float* values = reinterpret_cast<const float*>(rows(layer, 1));
  if (type_ != KVCacheType::F32) {
    // Widen the visible rows once; the tiled kernel then reads float32.
    const size_t block = static_cast<size_t>(n_kv * row_width_);
    if (widened_.size() < 2 * block) widened_.resize(2 * block);
    pool.parallel_for(2 * n_kv, 16, [&](int64_t a, int64_t b) {
      KVRows src;
      src.type = element_of(type_);
      src.row_stride = row_width_;
      src.group = q8_group_;
      for (int64_t r = a; r < b; ++r) {
        const int which = r < n_kv ? 0 : 1;
        const int64_t j = which == 0 ? r : r - n_kv;
        src.data = rows(layer, which);
        src.scales = type_ == KVCacheType::Q8 ? scales(layer, which) : nullptr;
        kv_row_to_f32(src, j, 0, row_width_, widened_.data() + which * block + j * row_width_);
      }
    });
    keys = widened_.data();
    values = widened_.data() + block;
  }
  AttentionShape s;
  s.n_q = n_q;
  s.n_kv = n_kv;
  s.n_heads = n_heads;
  s.n_kv_heads = n_kv_heads_;
  s.head_dim = head_dim_;
  s.q_stride = q_stride;
  s.kv_stride = row_width_;
  s.out_stride = out_stride;
  s.scale = scale;
  s.causal = true;
  s.q_offset = size_;
  attention(q, keys, values, s, out, pool);
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
