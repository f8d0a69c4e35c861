#include "qwen3vl/kernels/elementwise.h"

#include <algorithm>
#include <cmath>

#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/elementwise_kernels.h"

namespace qwen3vl {

namespace {

// Scalar kernels: the portable path and the references the SIMD ones are
// tested against (tests cap the ISA to reach them).

void rms_norm_scalar(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float ss = 0.0f;
    for (int64_t i = 0; i < dim; ++i) ss += xr[i] * xr[i];
    const float inv = 1.0f / std::sqrt(ss / static_cast<float>(dim) + eps);
    for (int64_t i = 0; i < dim; ++i) yr[i] = weight[i] * (xr[i] * inv);
  }
}

void layer_norm_scalar(const float* x, const float* weight, const float* bias, float eps, int64_t rows,
                int64_t dim, float* y) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * dim;
    float* yr = y + r * dim;
    float mean = 0.0f;
    for (int64_t i = 0; i < dim; ++i) mean += xr[i];
    mean /= static_cast<float>(dim);
    float var = 0.0f;
    for (int64_t i = 0; i < dim; ++i) var += (xr[i] - mean) * (xr[i] - mean);
    var /= static_cast<float>(dim);
    const float inv = 1.0f / std::sqrt(var + eps);
    for (int64_t i = 0; i < dim; ++i) yr[i] = (xr[i] - mean) * inv * weight[i] + (bias ? bias[i] : 0.0f);
  }
}

void silu_mul_scalar(const float* gate, const float* up, int64_t n, float* out) {
  for (int64_t i = 0; i < n; ++i) {
    const float g = gate[i];
    out[i] = g / (1.0f + std::exp(-g)) * up[i];
  }
}

// 0.5·v·(1 + tanh(u)) written as v / (1 + e^(-2u)), u = √(2/π)(v + 0.044715 v³):
// the same function, without the cancellation of 1 + tanh(u) for negative v
// (which would leave only a few correct bits in the small negative tail).
void gelu_tanh_inplace_scalar(float* x, int64_t n) {
  const float k = 0.7978845608028654f;  // sqrt(2/pi)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    const float u = k * (v + 0.044715f * v * v * v);
    x[i] = v / (1.0f + std::exp(-2.0f * u));
  }
}

void gelu_erf_inplace_scalar(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = 0.5f * x[i] * (1.0f + std::erf(x[i] * 0.7071067811865476f));
}

void add_inplace_scalar(float* y, const float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) y[i] += x[i];
}

const kernels::ElementwiseKernels* simd_kernels() { return kernels::elementwise_kernels_for(active_isa_level()); }

// Runs fn over [0, n) in chunks of at least `grain` items on the pool (or
// inline when there is too little work to share).
template <class F>
void split(int64_t n, int64_t grain, ThreadPool& pool, F&& fn) {
  if (pool.size() <= 1 || n <= grain) {
    fn(int64_t{0}, n);
    return;
  }
  pool.parallel_for(n, grain, [&](int64_t a, int64_t b) { fn(a, b); });
}

// Elements per task for flat elementwise loops (enough to outweigh a pool dispatch).
constexpr int64_t kFlatGrain = 1 << 14;

int64_t rows_grain(int64_t dim) { return std::max<int64_t>(1, kFlatGrain / std::max<int64_t>(dim, 1)); }

}  // namespace

void rms_norm(const float* x, const float* weight, float eps, int64_t rows, int64_t dim, float* y, ThreadPool& pool) {
  const kernels::ElementwiseKernels* simd = simd_kernels();
  split(rows, rows_grain(dim), pool, [&](int64_t r0, int64_t r1) {
    if (simd) simd->rms_norm(x + r0 * dim, weight, eps, r1 - r0, dim, y + r0 * dim);
    else rms_norm_scalar(x + r0 * dim, weight, eps, r1 - r0, dim, y + r0 * dim);
  });
}

void layer_norm(const float* x, const float* weight, const float* bias, float eps, int64_t rows, int64_t dim,
                float* y, ThreadPool& pool) {
  const kernels::ElementwiseKernels* simd = simd_kernels();
  split(rows, rows_grain(dim), pool, [&](int64_t r0, int64_t r1) {
    if (simd) simd->layer_norm(x + r0 * dim, weight, bias, eps, r1 - r0, dim, y + r0 * dim);
    else layer_norm_scalar(x + r0 * dim, weight, bias, eps, r1 - r0, dim, y + r0 * dim);
  });
}

void silu_mul(const float* gate, const float* up, int64_t n, float* out, ThreadPool& pool) {
  const kernels::ElementwiseKernels* simd = simd_kernels();
  split(n, kFlatGrain, pool, [&](int64_t a, int64_t b) {
    if (simd) simd->silu_mul(gate + a, up + a, b - a, out + a);
    else silu_mul_scalar(gate + a, up + a, b - a, out + a);
  });
}

void gelu_tanh_inplace(float* x, int64_t n, ThreadPool& pool) {
  const kernels::ElementwiseKernels* simd = simd_kernels();
  split(n, kFlatGrain, pool, [&](int64_t a, int64_t b) {
    if (simd) simd->gelu_tanh(x + a, b - a);
    else gelu_tanh_inplace_scalar(x + a, b - a);
  });
}

void gelu_erf_inplace(float* x, int64_t n, ThreadPool& pool) {
  // libm's erf in every path: exact GELU has to stay within 1e-6 relative.
  split(n, kFlatGrain, pool, [&](int64_t a, int64_t b) { gelu_erf_inplace_scalar(x + a, b - a); });
}

void add_inplace(float* y, const float* x, int64_t n, ThreadPool& pool) {
  const kernels::ElementwiseKernels* simd = simd_kernels();
  split(n, kFlatGrain, pool, [&](int64_t a, int64_t b) {
    if (simd) simd->add(y + a, x + a, b - a);
    else add_inplace_scalar(y + a, x + a, b - a);
  });
}

void softmax_inplace(float* x, int64_t n) {
  float mx = -INFINITY;
  for (int64_t i = 0; i < n; ++i) mx = std::max(mx, x[i]);
  float sum = 0.0f;
  for (int64_t i = 0; i < n; ++i) {
    x[i] = std::exp(x[i] - mx);
    sum += x[i];
  }
  const float inv = 1.0f / sum;
  for (int64_t i = 0; i < n; ++i) x[i] *= inv;
}

}  // namespace qwen3vl
