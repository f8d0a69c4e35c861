#include "qwen3vl/kernels/attention.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>
#include <vector>

#include "qwen3vl/kernels/attention_kernels.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace {

// One query row of one head against keys [0, n_visible), online softmax.
void attend_row(const float* qr, const float* k, const float* v, int64_t n_visible, int64_t kv_stride,
                int head_dim, float scale, float* out) {
  float m = -INFINITY, l = 0.0f;
  std::vector<float> acc(static_cast<size_t>(head_dim), 0.0f);
  for (int64_t j = 0; j < n_visible; ++j) {
    const float* kj = k + j * kv_stride;
    float s = 0.0f;
    for (int d = 0; d < head_dim; ++d) s += qr[d] * kj[d];
    s *= scale;
    const float vj_scale_new = s > m ? 1.0f : std::exp(s - m);
    if (s > m) {
      const float correction = std::exp(m - s);
      for (int d = 0; d < head_dim; ++d) acc[d] *= correction;
      l *= correction;
      m = s;
    }
    const float* vj = v + j * kv_stride;
    for (int d = 0; d < head_dim; ++d) acc[d] += vj_scale_new * vj[d];
    l += vj_scale_new;
  }
  const float inv = l > 0.0f ? 1.0f / l : 0.0f;
  for (int d = 0; d < head_dim; ++d) out[d] = acc[d] * inv;
}

// Below this many query rows the blocked kernel's per-block key transpose
// is not amortised (decode attends one row): rows go one at a time.
constexpr int64_t kBlockedMinQueries = 16;

// Blocked path: tasks of (head, block of query rows), handed out dynamically
// because causal blocks differ in cost; the costliest (last) blocks go first.
void attention_blocked(const float* q, const float* k, const float* v, const AttentionShape& s, float* out,
                       const kernels::AttentionKernels& simd, bool bf16, ThreadPool& pool) {
  const int64_t q_blocks = (s.n_q + kernels::kAttentionQueryBlock - 1) / kernels::kAttentionQueryBlock;
  const int64_t tasks = q_blocks * s.n_heads;
  std::vector<uint32_t> k_packed, v_packed;
  std::vector<float> k_transposed;
  const int64_t block_keys = bf16 ? kernels::kAttentionBf16BlockKeys : simd.block_keys;
  const int64_t key_blocks = (s.n_kv + block_keys - 1) / block_keys;
  if (!bf16) {
    // Key blocks transposed once, shared by every query block.
    k_transposed.resize(static_cast<size_t>(s.n_kv_heads * key_blocks * block_keys * s.head_dim));
    pool.parallel_for(s.n_kv_heads * key_blocks, 1, [&](int64_t a, int64_t b) {
      for (int64_t t = a; t < b; ++t)
        simd.pack_keys(k, s, static_cast<int>(t / key_blocks), t % key_blocks, k_transposed.data());
    });
  } else {
    // Keys and values converted and laid out once, shared by every query block.
    const size_t units = static_cast<size_t>(s.n_kv_heads * key_blocks * block_keys * s.head_dim / 2);
    k_packed.resize(units);
    v_packed.resize(units);
    pool.parallel_for(s.n_kv_heads * key_blocks, 1, [&](int64_t a, int64_t b) {
      for (int64_t t = a; t < b; ++t)
        kernels::attention_pack_bf16_avx512(k, v, s, static_cast<int>(t / key_blocks), t % key_blocks, k_packed.data(),
                                            v_packed.data());
    });
  }
  std::atomic<int64_t> next{0};
  pool.run_on_all([&](int, int) {
    for (int64_t t = next.fetch_add(1); t < tasks; t = next.fetch_add(1)) {
      const int64_t block = q_blocks - 1 - t / s.n_heads;
      const int head = static_cast<int>(t % s.n_heads);
      const int64_t i0 = block * kernels::kAttentionQueryBlock;
      const int64_t i1 = std::min(s.n_q, i0 + kernels::kAttentionQueryBlock);
      if (bf16) kernels::attention_rows_bf16_avx512(q, k_packed.data(), v_packed.data(), s, head, i0, i1, out);
      else simd.rows(q, k_transposed.data(), v, s, head, i0, i1, out);
    }
  });
}

// The bf16 kernel computes head_dim rounded up to 32 (zero-padded); it is
// offered only while that adds at most half (72 -> 96: its products still
// cost half the float32 kernel's), not for small heads (16 -> 32) where the
// padding would eat the gain.
bool bf16_kernel_runs(const AttentionShape& s) {
  const int64_t padded = (s.head_dim + 31) / 32 * 32;
  return s.n_q >= kBlockedMinQueries && 2 * padded <= 3 * int64_t{s.head_dim} &&
         active_isa_level() >= IsaLevel::Avx512 && cpu_features().avx512_bf16;
}

// The head_dim the blocked kernels compute `s` with: a multiple of their
// vector width (the bf16 kernel's: of 32).
int64_t padded_head_dim(const AttentionShape& s, const kernels::AttentionKernels& simd, bool bf16) {
  const int64_t width = bf16 ? 32 : simd.lanes;
  return (s.head_dim + width - 1) / width * width;
}

// A head_dim no multiple of the kernels' width (72, the 8B/30B-A3B vision
// tower's, against AVX-512's 16 lanes or the bf16 kernel's 32) runs padded
// with zero columns: zeros add nothing to q·k, their output columns are
// dropped, and the copies cost a few percent of the products. The scalar
// per-row loop it replaces is ~20x slower.
void attention_padded(const float* q, const float* k, const float* v, const AttentionShape& s, float* out,
                      const kernels::AttentionKernels& simd, bool bf16, ThreadPool& pool) {
  const int64_t hd = s.head_dim, hp = padded_head_dim(s, simd, bf16);
  AttentionShape t = s;
  t.head_dim = static_cast<int>(hp);
  t.q_stride = t.out_stride = s.n_heads * hp;
  t.kv_stride = s.n_kv_heads * hp;
  std::vector<float> qp(static_cast<size_t>(s.n_q * t.q_stride), 0.0f), op(qp.size());
  std::vector<float> kp(static_cast<size_t>(s.n_kv * t.kv_stride), 0.0f), vp(kp.size(), 0.0f);
  const auto spread = [hd, hp](const float* src, int64_t src_stride, int heads, float* dst, int64_t dst_stride,
                               int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r)
      for (int h = 0; h < heads; ++h)
        std::copy_n(src + r * src_stride + h * hd, hd, dst + r * dst_stride + h * hp);
  };
  pool.parallel_for(s.n_q, 64, [&](int64_t a, int64_t b) { spread(q, s.q_stride, s.n_heads, qp.data(), t.q_stride, a, b); });
  pool.parallel_for(s.n_kv, 64, [&](int64_t a, int64_t b) {
    spread(k, s.kv_stride, s.n_kv_heads, kp.data(), t.kv_stride, a, b);
    spread(v, s.kv_stride, s.n_kv_heads, vp.data(), t.kv_stride, a, b);
  });
  attention_blocked(qp.data(), kp.data(), vp.data(), t, op.data(), simd, bf16, pool);
  pool.parallel_for(s.n_q, 64, [&](int64_t a, int64_t b) {
    for (int64_t r = a; r < b; ++r)
      for (int h = 0; h < s.n_heads; ++h)
        std::copy_n(op.data() + r * t.out_stride + h * hp, hd, out + r * s.out_stride + h * hd);
  });
}

void run_attention(const float* q, const float* k, const float* v, const AttentionShape& s, AttentionProducts p,
                   float* out, ThreadPool& pool) {
  if (s.n_q <= 0) return;
  const kernels::AttentionKernels* simd = kernels::attention_kernels_for(active_isa_level());
  if (simd && s.n_q >= kBlockedMinQueries) {
    const bool bf16 = p == AttentionProducts::BF16;
    if (padded_head_dim(s, *simd, bf16) != s.head_dim) attention_padded(q, k, v, s, out, *simd, bf16, pool);
    else attention_blocked(q, k, v, s, out, *simd, bf16, pool);
    return;
  }
  const int group = s.n_heads / s.n_kv_heads;
  const int64_t work = s.n_q * s.n_heads;
  pool.parallel_for(work, 1, [&](int64_t w0, int64_t w1) {
    for (int64_t w = w0; w < w1; ++w) {
      const int64_t i = w / s.n_heads;
      const int h = static_cast<int>(w % s.n_heads);
      const int kvh = h / group;
      const int64_t visible = s.causal ? std::min(s.n_kv, s.q_offset + i + 1) : s.n_kv;
      attend_row(q + i * s.q_stride + h * s.head_dim, k + kvh * s.head_dim, v + kvh * s.head_dim, visible,
                 s.kv_stride, s.head_dim, s.scale, out + i * s.out_stride + h * s.head_dim);
    }
  });
}

}  // namespace

int attention_kernel_head_dim(const AttentionShape& s) {
  const kernels::AttentionKernels* simd = kernels::attention_kernels_for(active_isa_level());
  if (!simd || s.n_q < kBlockedMinQueries) return 0;
  return static_cast<int>(padded_head_dim(s, *simd, attention_products(s) == AttentionProducts::BF16));
}

bool attention_products_available(AttentionProducts p, const AttentionShape& s) {
  return p == AttentionProducts::F32 || bf16_kernel_runs(s);
}

AttentionProducts attention_products(const AttentionShape& s) {
  const bool quantized_inputs = s.inputs_format == WeightFormat::Q8 || s.inputs_format == WeightFormat::Q4;
  if (quantized_inputs && bf16_kernel_runs(s) && kernel_choices().quantized_attention == AttentionProducts::BF16)
    return AttentionProducts::BF16;
  return AttentionProducts::F32;
}

void attention(const float* q, const float* k, const float* v, const AttentionShape& s, float* out,
               ThreadPool& pool) {
  run_attention(q, k, v, s, attention_products(s), out, pool);
}

void attention_with_products(const float* q, const float* k, const float* v, const AttentionShape& s,
                             AttentionProducts p, float* out, ThreadPool& pool) {
  check(attention_products_available(p, s), std::string("attention: ") + attention_products_name(p) +
                                                " products are not available on this CPU for this shape");
  run_attention(q, k, v, s, p, out, pool);
}

namespace {

// Both references: bf16 rounds q·scale, k, v and the weights for the
// products as the bf16 kernel does; otherwise every value stays float32.
void two_pass_attention(const float* q, const float* k, const float* v, const AttentionShape& s, bool bf16,
                        float* out) {
  const auto operand = [bf16](float x) { return bf16 ? bf16_to_f32(f32_to_bf16(x)) : x; };
  const int group = s.n_heads / s.n_kv_heads;
  std::vector<float> qs(static_cast<size_t>(s.head_dim)), scores(static_cast<size_t>(s.n_kv));
  for (int64_t i = 0; i < s.n_q; ++i) {
    for (int h = 0; h < s.n_heads; ++h) {
      const int kvh = h / group;
      const int64_t visible = s.causal ? std::min(s.n_kv, s.q_offset + i + 1) : s.n_kv;
      const float* qr = q + i * s.q_stride + h * s.head_dim;
      // float32 scales the sum; bf16 scales q before rounding it (as the kernel).
      for (int d = 0; d < s.head_dim; ++d) qs[d] = bf16 ? operand(qr[d] * s.scale) : qr[d];
      float mx = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) {
        const float* kj = k + j * s.kv_stride + kvh * s.head_dim;
        float acc = 0.0f;
        for (int d = 0; d < s.head_dim; ++d) acc += qs[d] * operand(kj[d]);
        scores[j] = bf16 ? acc : acc * s.scale;
        mx = std::max(mx, scores[j]);
      }
      float sum = 0.0f;
      for (int64_t j = 0; j < visible; ++j) {
        scores[j] = std::exp(scores[j] - mx);
        sum += scores[j];
      }
      float* o = out + i * s.out_stride + h * s.head_dim;
      for (int d = 0; d < s.head_dim; ++d) {
        float acc = 0.0f;
        for (int64_t j = 0; j < visible; ++j)
          acc += operand(scores[j]) * operand(v[j * s.kv_stride + kvh * s.head_dim + d]);
        o[d] = acc / sum;
      }
    }
  }
}

}  // namespace

void attention_reference(const float* q, const float* k, const float* v, const AttentionShape& s,
                         float* out) {
  two_pass_attention(q, k, v, s, false, out);
}

void attention_reference_bf16(const float* q, const float* k, const float* v, const AttentionShape& s,
                              float* out) {
  two_pass_attention(q, k, v, s, true, out);
}

}  // namespace qwen3vl
