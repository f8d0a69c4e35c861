#include "qwen3vl/kernels/cached_attention.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cached_attention_kernels.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

void kv_row_to_f32(const KVRows& rows, int64_t j, int64_t col, int64_t count, float* out) {
  const int64_t base = j * rows.row_stride + col;
  switch (rows.type) {
    case KVElement::F32: {
      const float* p = static_cast<const float*>(rows.data) + base;
      std::copy(p, p + count, out);
      return;
    }
    case KVElement::F16: {
      const uint16_t* p = static_cast<const uint16_t*>(rows.data) + base;
      for (int64_t d = 0; d < count; ++d) out[d] = f16_to_f32(p[d]);
      return;
    }
    case KVElement::BF16: {
      const uint16_t* p = static_cast<const uint16_t*>(rows.data) + base;
      for (int64_t d = 0; d < count; ++d) out[d] = bf16_to_f32(p[d]);
      return;
    }
    case KVElement::Q8: {
      const int8_t* p = static_cast<const int8_t*>(rows.data) + base;
      const float* sc = rows.scales + j * (rows.row_stride / rows.group);
      for (int64_t d = 0; d < count; ++d) out[d] = static_cast<float>(p[d]) * sc[(col + d) / rows.group];
      return;
    }
  }
}

void store_kv_rows(const float* src, int64_t first, int64_t n, KVElement type, int64_t row_stride, int group,
                   void* data, float* scales) {
  const size_t count = static_cast<size_t>(n * row_stride);
  const size_t offset = static_cast<size_t>(first * row_stride);
  switch (type) {
    case KVElement::F32:
      std::memcpy(static_cast<float*>(data) + offset, src, count * sizeof(float));
      return;
    case KVElement::F16: {
      uint16_t* d = static_cast<uint16_t*>(data) + offset;
      for (size_t i = 0; i < count; ++i) d[i] = f32_to_f16(src[i]);
      return;
    }
    case KVElement::BF16: {
      uint16_t* d = static_cast<uint16_t*>(data) + offset;
      for (size_t i = 0; i < count; ++i) d[i] = f32_to_bf16(src[i]);
      return;
    }
    case KVElement::Q8: {
      int8_t* d = static_cast<int8_t*>(data) + offset;
      float* sc = scales + offset / group;
      for (size_t g0 = 0; g0 < count; g0 += group) {
        float amax = 0.0f;
        for (int e = 0; e < group; ++e) amax = std::max(amax, std::fabs(src[g0 + e]));
        const float inv = amax > 0.0f ? 127.0f / amax : 0.0f;
        for (int e = 0; e < group; ++e)
          d[g0 + e] = static_cast<int8_t>(std::clamp(static_cast<int>(std::nearbyint(src[g0 + e] * inv)), -127, 127));
        sc[g0 / group] = amax / 127.0f;
      }
      return;
    }
  }
}

namespace {

void check_shape(const KVRows& k, const KVRows& v, const CachedAttentionShape& s) {
  check(s.n_kv_heads > 0 && s.n_heads % s.n_kv_heads == 0,
        "cached_attention: query heads must be a multiple of key/value heads");
  check(s.head_dim > 0, "cached_attention: head_dim must be positive");
  for (const KVRows* r : {&k, &v})
    check(r->type != KVElement::Q8 || (r->group > 0 && r->row_stride % r->group == 0 && r->scales),
          "cached_attention: int8 rows need scales and a group dividing the row");
}

// One (kv head, query row) item, scalar: every query head of the group.
void item_scalar(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, int kvh,
                 int64_t i, float* out, std::vector<float>& scores) {
  const int group = s.n_heads / s.n_kv_heads;
  const int hd = s.head_dim;
  const int64_t visible = s.q_offset + i + 1;
  scores.resize(static_cast<size_t>(visible + 2 * hd));
  float* row = scores.data() + visible;
  float* acc = row + hd;
  for (int g = 0; g < group; ++g) {
    const int h = kvh * group + g;
    const float* qh = q + i * s.q_stride + static_cast<int64_t>(h) * hd;
    float mx = -INFINITY;
    for (int64_t j = 0; j < visible; ++j) {
      kv_row_to_f32(k, j, static_cast<int64_t>(kvh) * hd, hd, row);
      float dot = 0.0f;
      for (int d = 0; d < hd; ++d) dot += qh[d] * row[d];
      scores[j] = dot * s.scale;
      mx = std::max(mx, scores[j]);
    }
    float sum = 0.0f;
    for (int64_t j = 0; j < visible; ++j) {
      scores[j] = std::exp(scores[j] - mx);
      sum += scores[j];
    }
    std::fill(acc, acc + hd, 0.0f);
    for (int64_t j = 0; j < visible; ++j) {
      kv_row_to_f32(v, j, static_cast<int64_t>(kvh) * hd, hd, row);
      for (int d = 0; d < hd; ++d) acc[d] += scores[j] * row[d];
    }
    float* o = out + i * s.out_stride + static_cast<int64_t>(h) * hd;
    for (int d = 0; d < hd; ++d) o[d] = acc[d] / sum;
  }
}

}  // namespace

void cached_attention_reference(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s,
                                float* out) {
  check_shape(k, v, s);
  std::vector<float> scratch;
  for (int kvh = 0; kvh < s.n_kv_heads; ++kvh)
    for (int64_t i = 0; i < s.n_q; ++i) item_scalar(q, k, v, s, kvh, i, out, scratch);
}

void cached_attention(const float* q, const KVRows& k, const KVRows& v, const CachedAttentionShape& s, float* out,
                      ThreadPool& pool) {
  check_shape(k, v, s);
  const kernels::CachedAttentionKernels* simd = kernels::cached_attention_kernels_for(active_isa_level());
  // Items are (kv head, query row): each reads that head's cached rows once
  // for all the query heads sharing it.
  const int64_t items = static_cast<int64_t>(s.n_kv_heads) * s.n_q;
  pool.parallel_chunks(items, 1, [&](int64_t a, int64_t b) {
    thread_local std::vector<float> scores;
    for (int64_t it = a; it < b; ++it) {
      const int kvh = static_cast<int>(it % s.n_kv_heads);
      const int64_t i = it / s.n_kv_heads;
      if (simd && simd->item(q, k, v, s, kvh, i, out, scores)) continue;
      item_scalar(q, k, v, s, kvh, i, out, scores);
    }
  });
}

}  // namespace qwen3vl
