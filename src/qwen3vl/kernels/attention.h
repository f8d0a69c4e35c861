// Scaled dot-product attention with an online (flash-style) softmax: memory
// stays linear in sequence length, so long prompts and large images need no
// [n_q, n_kv] score matrix.
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/kernel_choices.h"
#include "qwen3vl/kernels/weight_matrix.h"

namespace qwen3vl {

struct AttentionShape {
  int64_t n_q = 0;        // query rows
  int64_t n_kv = 0;       // key/value rows
  int n_heads = 0;        // query heads
  int n_kv_heads = 0;     // key/value heads (GQA: n_heads % n_kv_heads == 0)
  int head_dim = 0;
  int64_t q_stride = 0;   // floats between consecutive query rows
  int64_t kv_stride = 0;  // floats between consecutive key (and value) rows
  int64_t out_stride = 0; // floats between consecutive output rows
  float scale = 0.0f;     // usually 1/sqrt(head_dim)
  // Causal: query row i may see keys 0 .. q_offset + i. Otherwise all keys.
  bool causal = false;
  int64_t q_offset = 0;
  // The format of the weights that produced q, k and v. After Q8/Q4
  // projections (int8 products already) the kernel may round q, k, v and the
  // softmax weights to bfloat16 for the products (sums stay float32) when
  // the CPU has BF16 dot products: ~0.4% relative error per factor, the order
  // of int8 activation quantization. After float weights the products stay
  // float32, exact up to summation order.
  WeightFormat inputs_format = WeightFormat::F32;
};

// q: [n_q, q_stride] with head h at columns h*head_dim; k, v likewise with
// kv heads; out: [n_q, out_stride] with head h at columns h*head_dim.
void attention(const float* q, const float* k, const float* v, const AttentionShape& s, float* out,
               ThreadPool& pool);

// The head_dim the blocked kernels compute `s` with at the active ISA level:
// s.head_dim rounded up to their vector width (16 floats at AVX-512, 8 at
// AVX2, 32 with bf16 products; 72, the 8B/30B-A3B vision tower's, runs as 80
// at AVX-512, zero-padded); 0 when the scalar per-row loop runs it (scalar
// level, or fewer than 16 query rows).
int attention_kernel_head_dim(const AttentionShape& s);

// Straightforward two-pass reference (materialises one score row at a time).
void attention_reference(const float* q, const float* k, const float* v, const AttentionShape& s,
                         float* out);

// The products attention() uses for `s` on this machine: BF16 when the inputs
// are quantized, the bf16 kernel runs `s` here and kernel_choices() prefers
// it (a measured choice, runtime/kernel_tuning.h); F32 otherwise.
AttentionProducts attention_products(const AttentionShape& s);
// Whether `p` can run `s` on this CPU: F32 always; BF16 needs AVX-512 BF16 at
// the active ISA level, at least 16 query rows (the blocked kernel; fewer
// rows go one at a time in float32) and a head_dim whose zero-padding to a
// multiple of 32 adds at most half (64, 72, 80, 96, 128: yes; 16, 40: no).
bool attention_products_available(AttentionProducts p, const AttentionShape& s);
// attention() with the products given, whatever inputs_format says (kernel
// measurement, tests). Throws Error when `p` is not available for `s`.
void attention_with_products(const float* q, const float* k, const float* v, const AttentionShape& s,
                             AttentionProducts p, float* out, ThreadPool& pool);

// The scalar reference of the bf16 products: q·scale, k and v rounded to
// bfloat16; float32 scores and a two-pass softmax; the weights rounded to
// bfloat16 for the weighted sum of v, which is divided by the float32 sum of
// the unrounded weights (the kernel does the same with an online softmax and
// a polynomial exp).
void attention_reference_bf16(const float* q, const float* k, const float* v, const AttentionShape& s,
                              float* out);

}  // namespace qwen3vl
