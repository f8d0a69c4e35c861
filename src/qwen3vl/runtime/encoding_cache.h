// The encoding cache behind the public EncodingCache: vision features by key
// (model instance, media content hash, preprocessing options), least recently
// used evicted first once the held features exceed a byte budget. One mutex
// guards it; lookups are rare (once per medium per request), so it never
// contends with the forward passes.
#pragma once
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "qwen3vl/model/qwen3vl_model.h"
#include "qwen3vl/qwen3vl.h"

namespace qwen3vl {

struct EncodingCache::Impl {
  explicit Impl(size_t max_bytes) : max_bytes(max_bytes) {}

  // The encoding under `key`, now the most recently used; null when absent.
  std::shared_ptr<const MediaEncoding> find(const std::string& key);
  // Stores (or replaces) `key`, then evicts from the least recently used end
  // until the budget holds. An encoding larger than the whole budget is not kept.
  void insert(const std::string& key, std::shared_ptr<const MediaEncoding> encoding);
  void clear();

  size_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;
  uint64_t misses() const;

 private:
  using Entry = std::pair<std::string, std::shared_ptr<const MediaEncoding>>;
  void erase(std::list<Entry>::iterator it);

  const size_t max_bytes;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
  size_t bytes_ = 0;
  uint64_t hits_ = 0, misses_ = 0;
};

}  // namespace qwen3vl
