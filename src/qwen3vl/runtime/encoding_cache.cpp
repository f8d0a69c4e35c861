#include "qwen3vl/runtime/encoding_cache.h"

namespace qwen3vl {

std::shared_ptr<const MediaEncoding> EncodingCache::Impl::find(const std::string& key) {
  std::lock_guard lock(mutex_);
  const auto it = index_.find(key);
  if (it == index_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->second;
}

void EncodingCache::Impl::erase(std::list<Entry>::iterator it) {
  bytes_ -= it->second->bytes();
  index_.erase(it->first);
  lru_.erase(it);
}

void EncodingCache::Impl::insert(const std::string& key, std::shared_ptr<const MediaEncoding> encoding) {
  std::lock_guard lock(mutex_);
  if (const auto it = index_.find(key); it != index_.end()) erase(it->second);
  const size_t size = encoding->bytes();
  if (size > max_bytes) return;
  lru_.emplace_front(key, std::move(encoding));
  index_[key] = lru_.begin();
  bytes_ += size;
  while (bytes_ > max_bytes) erase(std::prev(lru_.end()));
}

void EncodingCache::Impl::clear() {
  std::lock_guard lock(mutex_);
  lru_.clear();
  index_.clear();
  bytes_ = 0;
}

size_t EncodingCache::Impl::bytes() const {
  std::lock_guard lock(mutex_);
  return bytes_;
}
size_t EncodingCache::Impl::entries() const {
  std::lock_guard lock(mutex_);
  return lru_.size();
}
uint64_t EncodingCache::Impl::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}
uint64_t EncodingCache::Impl::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

EncodingCache::EncodingCache(size_t max_bytes) : impl_(std::make_unique<Impl>(max_bytes)) {}
EncodingCache::~EncodingCache() = default;
size_t EncodingCache::bytes() const { return impl_->bytes(); }
size_t EncodingCache::entries() const { return impl_->entries(); }
uint64_t EncodingCache::hits() const { return impl_->hits(); }
uint64_t EncodingCache::misses() const { return impl_->misses(); }
void EncodingCache::clear() { impl_->clear(); }

}  // namespace qwen3vl
