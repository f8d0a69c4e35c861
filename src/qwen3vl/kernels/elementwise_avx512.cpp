// AVX-512 instantiation of the width-generic elementwise kernels
// (elementwise_simd.h). Compiled with AVX-512 flags: used only when
// active_isa_level() says Avx512 (elementwise_kernels_for).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "qwen3vl/kernels/simd_avx512.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/elementwise_simd.h"

namespace qwen3vl::kernels {

const ElementwiseKernels& elementwise_kernels_avx512() {
  static const ElementwiseKernels kernels = simd::elementwise_kernels_for<Avx512>();
  return kernels;
}

}  // namespace qwen3vl::kernels
