// Rotary position embedding in the rotate-half layout (the one Hugging Face's
// rotate_half uses, for the text decoder's 3-D rope and the vision tower's
// 2-D rope alike): each head x becomes x·cos + rotate_half(x)·sin with
// rotate_half(x) = [-x2, x1] for halves x1, x2 of x. The angles come with the
// call (cos/sin tables per row), so this knows nothing of how positions map
// to frequencies.
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

// Rotates `rows` rows of `n_heads` heads in place. Head h of row r starts at
// x + r*row_stride + h*head_dim; cos and sin are [rows, head_dim] (row r at
// r*head_dim). Long inputs are split by rows over the pool; the result does
// not depend on the split.
void apply_rotary(float* x, int64_t rows, int64_t row_stride, int n_heads, int head_dim, const float* cos,
                  const float* sin, ThreadPool& pool);

}  // namespace qwen3vl
