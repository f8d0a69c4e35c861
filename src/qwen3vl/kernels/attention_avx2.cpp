// AVX2 + FMA instantiation of the width-generic float32 blocked attention
// (attention_simd.h). Compiled with AVX2 flags: used only when
// active_isa_level() is at least Avx2 (attention_kernels_for).
#include "qwen3vl/kernels/simd_avx2.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/attention_simd.h"

namespace qwen3vl::kernels {

const AttentionKernels& attention_kernels_avx2() {
  static const AttentionKernels kernels = simd::attention_kernels_for<Avx2>();
  return kernels;
}

}  // namespace qwen3vl::kernels
