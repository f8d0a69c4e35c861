#include "qwen3vl/kernels/rotary.h"

namespace qwen3vl {

namespace {

void rotate_rows(float* x, int64_t r0, int64_t r1, int64_t row_stride, int n_heads, int head_dim, const float* cos,
                 const float* sin) {
  const int half = head_dim / 2;
  for (int64_t r = r0; r < r1; ++r) {
    const float* c = cos + r * head_dim;
    const float* s = sin + r * head_dim;
    for (int h = 0; h < n_heads; ++h) {
      float* v = x + r * row_stride + static_cast<int64_t>(h) * head_dim;
      for (int i = 0; i < half; ++i) {
        const float a = v[i], b = v[i + half];
        v[i] = a * c[i] - b * s[i];
        v[i + half] = b * c[i + half] + a * s[i + half];
      }
    }
  }
}

// Rows per task: a decode step's single row stays on the calling thread.
constexpr int64_t kRowsPerTask = 16;

}  // namespace

void apply_rotary(float* x, int64_t rows, int64_t row_stride, int n_heads, int head_dim, const float* cos,
                  const float* sin, ThreadPool& pool) {
  if (rows <= kRowsPerTask) {
    rotate_rows(x, 0, rows, row_stride, n_heads, head_dim, cos, sin);
    return;
  }
  pool.parallel_for(rows, kRowsPerTask, [&](int64_t r0, int64_t r1) {
    rotate_rows(x, r0, r1, row_stride, n_heads, head_dim, cos, sin);
  });
}

}  // namespace qwen3vl
