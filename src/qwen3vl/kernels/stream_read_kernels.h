// ISA-specific bodies of stream_xor (stream_read.h); each handles the
// 64-byte-multiple prefix it is given, the dispatcher the tail.
#pragma once
#include <cstddef>
#include <cstdint>

namespace qwen3vl::kernels {

uint64_t stream_xor_avx512(const uint8_t* data, size_t bytes, size_t prefetch_ahead);
uint64_t stream_xor_avx2(const uint8_t* data, size_t bytes, size_t prefetch_ahead);

}  // namespace qwen3vl::kernels
