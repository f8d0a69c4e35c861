// Scaled dot-product attention with an online (flash-style) softmax: memory
// stays linear in sequence length, so long prompts and large images need no
// [n_q, n_kv] score matrix.
#pragma once
#include <cstdint>

#include "qwen3vl/base/thread_pool.h"
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

// Straightforward two-pass reference (materialises one score row at a time).
void attention_reference(const float* q, const float* k, const float* v, const AttentionShape& s,
                         float* out);

}  // namespace qwen3vl
