// Streaming a buffer through the core as fast as the memory system allows:
// the loads a bandwidth probe times. Each level reads with its widest loads
// (64-byte AVX-512, 32-byte AVX2, 8-byte scalar), as the decode GEMVs do, so
// the probe measures what decode could reach rather than what narrow loads
// reach.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qwen3vl {

struct StreamReadOptions {
  // Also prefetch this many bytes ahead of the loads (0: rely on the
  // hardware prefetchers alone). The quantized decode GEMVs prefetch about
  // 1.7 KB ahead.
  size_t prefetch_ahead = 0;
};

// Reads the `bytes` bytes at `data` front to back and returns the XOR of
// its little-endian 64-bit words (a partial last word zero-padded): a value
// that uses every byte, so the reads cannot be optimised away, and that every
// ISA level computes exactly.
uint64_t stream_xor(const void* data, size_t bytes, const StreamReadOptions& options = {});

}  // namespace qwen3vl
