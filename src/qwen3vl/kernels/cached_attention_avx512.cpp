// AVX-512 instantiation of the width-generic decode attention
// (cached_attention_simd.h). Compiled with AVX-512 flags: used only when
// active_isa_level() says Avx512 (cached_attention_kernels_for).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "qwen3vl/kernels/simd_avx512.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/cached_attention_simd.h"

namespace qwen3vl::kernels {

const CachedAttentionKernels& cached_attention_kernels_avx512() {
  static const CachedAttentionKernels kernels{simd::cached_attention_item<Avx512>};
  return kernels;
}

}  // namespace qwen3vl::kernels
