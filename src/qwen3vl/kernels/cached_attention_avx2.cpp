// AVX2 + FMA + F16C instantiation of the width-generic decode attention
// (cached_attention_simd.h). Compiled with AVX2 flags: used only when
// active_isa_level() is at least Avx2 (cached_attention_kernels_for).
#include "qwen3vl/kernels/simd_avx2.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/cached_attention_simd.h"

namespace qwen3vl::kernels {

const CachedAttentionKernels& cached_attention_kernels_avx2() {
  static const CachedAttentionKernels kernels{simd::cached_attention_item<Avx2>};
  return kernels;
}

}  // namespace qwen3vl::kernels
