// Content identity of byte strings (media files), for caches keyed by what a
// file holds rather than where it came from: XXH3-128 (libxxhash), written as
// 32 hex digits. Not cryptographic; collisions between honest inputs are
// practically impossible (2^-128 per pair).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace qwen3vl {

std::string content_hash(const void* data, size_t size);

// A 64-bit digest of a text key (for compact per-row identities).
uint64_t key_digest(std::string_view key);

}  // namespace qwen3vl
