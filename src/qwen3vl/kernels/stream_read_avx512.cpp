#include <immintrin.h>

#include "qwen3vl/kernels/stream_read_kernels.h"

namespace qwen3vl::kernels {

// Four 64-byte loads per step into four independent XOR chains.
uint64_t stream_xor_avx512(const uint8_t* p, size_t bytes, size_t prefetch_ahead) {
  __m512i a = _mm512_setzero_si512(), b = a, c = a, d = a;
  size_t i = 0;
  for (; i + 256 <= bytes; i += 256) {
    if (prefetch_ahead && i + prefetch_ahead + 256 <= bytes) {
      const char* ahead = reinterpret_cast<const char*>(p + i + prefetch_ahead);
      for (int off = 0; off < 256; off += 64) _mm_prefetch(ahead + off, _MM_HINT_T0);
    }
    a = _mm512_xor_si512(a, _mm512_loadu_si512(p + i));
    b = _mm512_xor_si512(b, _mm512_loadu_si512(p + i + 64));
    c = _mm512_xor_si512(c, _mm512_loadu_si512(p + i + 128));
    d = _mm512_xor_si512(d, _mm512_loadu_si512(p + i + 192));
  }
  for (; i < bytes; i += 64) a = _mm512_xor_si512(a, _mm512_loadu_si512(p + i));
  const __m512i all = _mm512_xor_si512(_mm512_xor_si512(a, b), _mm512_xor_si512(c, d));
  alignas(64) uint64_t lanes[8];
  _mm512_store_si512(lanes, all);
  uint64_t x = 0;
  for (uint64_t v : lanes) x ^= v;
  return x;
}

}  // namespace qwen3vl::kernels
