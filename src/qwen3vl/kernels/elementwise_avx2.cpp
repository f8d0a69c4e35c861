// AVX2 + FMA instantiation of the width-generic elementwise kernels
// (elementwise_simd.h). Compiled with AVX2 flags: used only when
// active_isa_level() is at least Avx2 (elementwise_kernels_for).
#include "qwen3vl/kernels/simd_avx2.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/elementwise_simd.h"

namespace qwen3vl::kernels {

const ElementwiseKernels& elementwise_kernels_avx2() {
  static const ElementwiseKernels kernels = simd::elementwise_kernels_for<Avx2>();
  return kernels;
}

}  // namespace qwen3vl::kernels
