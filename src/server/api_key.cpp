#include "server/api_key.h"

#include <cstdint>

namespace qwen3vl::server {

bool constant_time_equal(std::string_view a, std::string_view b) {
  // Walk the expected length (b) in full; bytes past the end of `a` compare
  // against zero, and a length difference is folded into the result.
  uint64_t diff = a.size() ^ b.size();
  for (size_t i = 0; i < b.size(); ++i) {
    const uint8_t x = i < a.size() ? static_cast<uint8_t>(a[i]) : 0;
    diff |= x ^ static_cast<uint8_t>(b[i]);
  }
  // Keep the compiler from turning the loop into an early-exit comparison.
  volatile uint64_t sink = diff;
  return sink == 0;
}

bool authorized(std::string_view authorization, std::string_view expected) {
  if (expected.empty()) return true;
  constexpr std::string_view kScheme = "Bearer ";
  std::string_view token;
  if (authorization.size() >= kScheme.size()) {
    bool scheme_ok = true;  // the scheme is case-insensitive (RFC 7235)
    for (size_t i = 0; i < kScheme.size(); ++i)
      scheme_ok &= (authorization[i] | 0x20) == (kScheme[i] | 0x20);
    if (scheme_ok) token = authorization.substr(kScheme.size());
  }
  return constant_time_equal(token, expected);
}

}  // namespace qwen3vl::server
