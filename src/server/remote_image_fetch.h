// Downloads an image for a request that names it by http(s) URL (only when
// the server runs with --allow-remote-images). libcurl with hard limits: a
// size cap enforced while receiving (a lying or absent Content-Length cannot
// get past it), a whole-transfer time limit, http/https only, also after
// redirects.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace qwen3vl::server {

struct RemoteFetchLimits {
  int64_t max_bytes = 20 << 20;
  int timeout_ms = 15000;
  int max_redirects = 3;
};

// Throws ApiError 400 naming the URL and what went wrong (HTTP status, size,
// timeout, unreachable host).
std::vector<uint8_t> fetch_remote_image(const std::string& url, const RemoteFetchLimits& limits);

}  // namespace qwen3vl::server
