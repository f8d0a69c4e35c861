// Row-wise normalisations and activations over contiguous float rows.
// Model code calls these; they know nothing of layers. Rows (or chunks of a
// flat array) are spread over the pool's threads when there is enough work
// to pay for a parallel loop (one decode row stays on the calling thread,
// as does a call made from inside one of the pool's loops); the SIMD versions
// are used when the CPU allows (same formulas, 8- or 16-wide sums, a ~1-ulp
// polynomial exponential instead of libm's).
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

// y = x / sqrt(mean(x²) + eps) * weight, for `rows` rows of `dim` (in place allowed).
void rms_norm(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y, ThreadPool& pool);
// y = (x - mean) / sqrt(var + eps) * weight + bias (in place allowed).
void layer_norm(const float* x, const float* weight, const float* bias, float eps, int64_t rows,
                int64_t dim, float* y, ThreadPool& pool);
// out[i] = silu(gate[i]) * up[i]
void silu_mul(const float* gate, const float* up, int64_t n, float* out, ThreadPool& pool);
// In place: x = gelu(x) with the tanh approximation (gelu_pytorch_tanh).
void gelu_tanh_inplace(float* x, int64_t n, ThreadPool& pool);
// In place: x = 0.5 x (1 + erf(x / sqrt 2)), the exact GELU.
void gelu_erf_inplace(float* x, int64_t n, ThreadPool& pool);
// In place: y += x
void add_inplace(float* y, const float* x, int64_t n, ThreadPool& pool);
// In place softmax of one row.
void softmax_inplace(float* x, int64_t n);

}  // namespace qwen3vl
