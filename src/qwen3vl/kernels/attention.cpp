#include "qwen3vl/kernels/attention.h"

#include <algorithm>
#include <cmath>
#include <vector>

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

}  // namespace

void attention(const float* q, const float* k, const float* v, const AttentionShape& s, float* out,
               ThreadPool& pool) {
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

void attention_reference(const float* q, const float* k, const float* v, const AttentionShape& s,
                         float* out) {
  const int group = s.n_heads / s.n_kv_heads;
  std::vector<float> scores(static_cast<size_t>(s.n_kv));
  for (int64_t i = 0; i < s.n_q; ++i) {
    for (int h = 0; h < s.n_heads; ++h) {
      const int kvh = h / group;
      const int64_t visible = s.causal ? std::min(s.n_kv, s.q_offset + i + 1) : s.n_kv;
      const float* qr = q + i * s.q_stride + h * s.head_dim;
      float mx = -INFINITY;
      for (int64_t j = 0; j < visible; ++j) {
        const float* kj = k + j * s.kv_stride + kvh * s.head_dim;
        float acc = 0.0f;
        for (int d = 0; d < s.head_dim; ++d) acc += qr[d] * kj[d];
        scores[j] = acc * s.scale;
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
        for (int64_t j = 0; j < visible; ++j) acc += scores[j] * v[j * s.kv_stride + kvh * s.head_dim + d];
        o[d] = acc / sum;
      }
    }
  }
}

}  // namespace qwen3vl
