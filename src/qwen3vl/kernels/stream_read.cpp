#include "qwen3vl/kernels/stream_read.h"

#include <cstring>

#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/stream_read_kernels.h"

namespace qwen3vl {

namespace {

// The scalar reference: four independent chains of 8-byte loads.
uint64_t stream_xor_scalar(const uint8_t* p, size_t bytes) {
  uint64_t a = 0, b = 0, c = 0, d = 0;
  size_t i = 0;
  for (; i + 32 <= bytes; i += 32) {
    uint64_t w[4];
    std::memcpy(w, p + i, 32);
    a ^= w[0], b ^= w[1], c ^= w[2], d ^= w[3];
  }
  for (; i + 8 <= bytes; i += 8) {
    uint64_t w;
    std::memcpy(&w, p + i, 8);
    a ^= w;
  }
  if (i < bytes) {
    uint64_t w = 0;
    std::memcpy(&w, p + i, bytes - i);  // little-endian: the tail fills the low bytes
    a ^= w;
  }
  return a ^ b ^ c ^ d;
}

}  // namespace

uint64_t stream_xor(const void* data, size_t bytes, const StreamReadOptions& options) {
  const auto* p = static_cast<const uint8_t*>(data);
  const size_t body = bytes / 64 * 64;
  switch (active_isa_level()) {
    case IsaLevel::Avx512:
      return kernels::stream_xor_avx512(p, body, options.prefetch_ahead) ^ stream_xor_scalar(p + body, bytes - body);
    case IsaLevel::Avx2:
      return kernels::stream_xor_avx2(p, body, options.prefetch_ahead) ^ stream_xor_scalar(p + body, bytes - body);
    case IsaLevel::Scalar: break;
  }
  return stream_xor_scalar(p, bytes);
}

}  // namespace qwen3vl
