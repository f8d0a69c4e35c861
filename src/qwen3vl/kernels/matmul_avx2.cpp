// AVX2 + FMA + F16C instantiation of the width-generic matmul kernels
// (matmul_simd.h), for machines without AVX-512. Compiled with AVX2 flags:
// used only when active_isa_level() is at least Avx2 (matmul_kernels_for).
#include "qwen3vl/kernels/simd_avx2.h"
// (the generic kernels use the operations above)
#include "qwen3vl/kernels/matmul_simd.h"

namespace qwen3vl::kernels {

const MatmulKernels& matmul_kernels_avx2() {
  static const MatmulKernels kernels = simd::matmul_kernels_for<Avx2>();
  return kernels;
}

}  // namespace qwen3vl::kernels
