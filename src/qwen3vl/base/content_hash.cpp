#include "qwen3vl/base/content_hash.h"

#include <xxhash.h>

#include <cstdio>

namespace qwen3vl {

std::string content_hash(const void* data, size_t size) {
  const XXH128_hash_t h = XXH3_128bits(data, size);
  char text[33];
  std::snprintf(text, sizeof text, "%016llx%016llx", static_cast<unsigned long long>(h.high64),
                static_cast<unsigned long long>(h.low64));
  return text;
}

uint64_t key_digest(std::string_view key) { return XXH3_64bits(key.data(), key.size()); }

}  // namespace qwen3vl
