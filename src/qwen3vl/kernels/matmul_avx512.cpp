// AVX-512 (F/BW/DQ/VL + VNNI) instantiation of the width-generic matmul
// kernels (matmul_simd.h). Compiled with AVX-512 flags: used only when
// active_isa_level() says Avx512 (matmul_kernels_for).
// GCC 12 reports false "used uninitialized" warnings inside its own
// avx512fintrin.h (the _mm512_undefined_* placeholders of reductions and
// masked conversions); they are not about this file's code.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "qwen3vl/kernels/simd_avx512.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/matmul_simd.h"

namespace qwen3vl::kernels {

const MatmulKernels& matmul_kernels_avx512() {
  static const MatmulKernels kernels = simd::matmul_kernels_for<Avx512>();
  return kernels;
}

}  // namespace qwen3vl::kernels
