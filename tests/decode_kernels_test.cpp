// Decode kernels: attention over a compact KV cache and the fused
// multi-layer GEMV, each against a plain reference on odd sizes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/attention.h"
#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_multi.h"
#include "qwen3vl/kernels/quant.h"

namespace qwen3vl {
namespace {

using testing::make_weight;
using testing::random_values;
using testing::ScopedIsaCap;

ThreadPool& two_threads() {
  static ThreadPool pool(2);
  return pool;
}

// Keys or values stored in one element type, from float values.
struct StoredRows {
  std::vector<uint8_t> bytes;
  std::vector<float> scales;
  KVRows view;

  StoredRows(KVElement type, const std::vector<float>& values, int64_t row_width, int group) {
    view.type = type;
    view.row_stride = row_width;
    const size_t n = values.size();
    switch (type) {
      case KVElement::F32:
        bytes.resize(n * 4);
        std::memcpy(bytes.data(), values.data(), n * 4);
        break;
      case KVElement::F16:
      case KVElement::BF16: {
        bytes.resize(n * 2);
        auto* d = reinterpret_cast<uint16_t*>(bytes.data());
        for (size_t i = 0; i < n; ++i) d[i] = type == KVElement::F16 ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
        break;
      }
      case KVElement::Q8: {
        bytes.resize(n);
        scales.resize(n / group);
        for (size_t g = 0; g < n / group; ++g) {
          float amax = 0;
          for (int e = 0; e < group; ++e) amax = std::max(amax, std::fabs(values[g * group + e]));
          scales[g] = amax / 127.0f;
          for (int e = 0; e < group; ++e)
            bytes[g * group + e] = static_cast<uint8_t>(static_cast<int8_t>(
                amax > 0 ? std::nearbyint(values[g * group + e] * 127.0f / amax) : 0.0f));
        }
        view.group = group;
        break;
      }
    }
    view.data = bytes.data();
    view.scales = scales.empty() ? nullptr : scales.data();
  }

  // The float values the rows stand for, [rows, row_width].
  std::vector<float> widened(int64_t rows) const {
    std::vector<float> out(static_cast<size_t>(rows * view.row_stride));
    for (int64_t j = 0; j < rows; ++j) kv_row_to_f32(view, j, 0, view.row_stride, out.data() + j * view.row_stride);
    return out;
  }
};

struct AttnCase {
  int n_heads, n_kv_heads, head_dim;
  int64_t n_q, q_offset;
};

std::vector<AttnCase> attention_cases() {
  return {{4, 2, 16, 1, 0},  {4, 2, 16, 1, 37},  {6, 3, 48, 3, 20}, {8, 8, 128, 1, 129},
          {32, 8, 128, 2, 61}, {2, 1, 24, 1, 9},  {2, 2, 64, 4, 1}, {6, 2, 64, 2, 33}};
}

const char* element_name(KVElement e) {
  switch (e) {
    case KVElement::F32: return "f32";
    case KVElement::F16: return "f16";
    case KVElement::BF16: return "bf16";
    case KVElement::Q8: return "q8";
  }
  return "?";
}

// The scalar reference means exactly "attention over the widened rows": it
// agrees with the general attention reference run on the widened floats.
// The SIMD kernel (every ISA, two threads) agrees with the scalar reference
// up to float32 reordering: scores and outputs are sums of head_dim ≤ 128
// products of values in [-1, 1], so 1e-5 absolute is ~100 ulps of margin,
// while a wrong row, head or scale moves results by ≥ 1e-2.
class CachedAttentionSimd : public testing::IsaLevelTest {};
QWEN3VL_SIMD_ISA_LEVELS(CachedAttentionSimd);

TEST_P(CachedAttentionSimd, MatchesScalarAndGeneralReferenceOnOddShapes) {
  for (KVElement type : {KVElement::F32, KVElement::F16, KVElement::BF16, KVElement::Q8}) {
    uint32_t seed = 11;
    for (const AttnCase& c : attention_cases()) {
      const int64_t row_width = static_cast<int64_t>(c.n_kv_heads) * c.head_dim;
      const int64_t n_kv = c.q_offset + c.n_q;
      const int group = c.head_dim % 32 == 0 ? 32 : c.head_dim % 16 == 0 ? 16 : c.head_dim;
      const auto q = random_values(c.n_q * c.n_heads * c.head_dim, seed++);
      const StoredRows k(type, random_values(n_kv * row_width, seed++), row_width, group);
      const StoredRows v(type, random_values(n_kv * row_width, seed++), row_width, group);
      CachedAttentionShape s;
      s.n_q = c.n_q;
      s.n_heads = c.n_heads;
      s.n_kv_heads = c.n_kv_heads;
      s.head_dim = c.head_dim;
      s.q_stride = s.out_stride = static_cast<int64_t>(c.n_heads) * c.head_dim;
      s.scale = 1.0f / std::sqrt(static_cast<float>(c.head_dim));
      s.q_offset = c.q_offset;
      const std::string what = std::string(element_name(type)) + " heads " + std::to_string(c.n_heads) + "/" +
                               std::to_string(c.n_kv_heads) + " dim " + std::to_string(c.head_dim) + " n_q " +
                               std::to_string(c.n_q) + " offset " + std::to_string(c.q_offset);

      std::vector<float> ref(q.size()), general(q.size());
      cached_attention_reference(q.data(), k.view, v.view, s, ref.data());
      AttentionShape g;
      g.n_q = c.n_q;
      g.n_kv = n_kv;
      g.n_heads = c.n_heads;
      g.n_kv_heads = c.n_kv_heads;
      g.head_dim = c.head_dim;
      g.q_stride = g.out_stride = s.q_stride;
      g.kv_stride = row_width;
      g.scale = s.scale;
      g.causal = true;
      g.q_offset = c.q_offset;
      const auto kw = k.widened(n_kv), vw = v.widened(n_kv);
      attention_reference(q.data(), kw.data(), vw.data(), g, general.data());
      for (size_t e = 0; e < ref.size(); ++e) ASSERT_NEAR(ref[e], general[e], 1e-5f) << what << " element " << e;

      std::vector<float> out(q.size(), NAN);
      cached_attention(q.data(), k.view, v.view, s, out.data(), two_threads());
      for (size_t e = 0; e < ref.size(); ++e) ASSERT_NEAR(out[e], ref[e], 1e-5f) << what << " element " << e;
    }
  }
}

TEST(CachedAttention, RejectsHeadCountsThatDoNotGroup) {
  const std::vector<float> q(3 * 16), kv(2 * 16);
  KVRows r;
  r.data = kv.data();
  r.row_stride = 16;
  CachedAttentionShape s;
  s.n_q = 1;
  s.n_heads = 3;
  s.n_kv_heads = 2;
  s.head_dim = 8;
  s.q_stride = s.out_stride = 24;
  s.scale = 1.0f;
  std::vector<float> out(24);
  EXPECT_THROW(cached_attention(q.data(), r, r, s, out.data(), two_threads()), Error);
}

// matmul_multi must equal one matmul() per layer bit for bit (same kernels,
// only the split of rows over threads changes, and rows are independent),
// for layers of odd row counts sharing one input, on every ISA.
class MatmulMultiSimd : public testing::IsaLevelTest {};
QWEN3VL_SIMD_ISA_LEVELS(MatmulMultiSimd);

TEST_P(MatmulMultiSimd, EqualsOneMatmulPerLayerExactly) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::Q8, WeightFormat::Q4}) {
    {
      for (int64_t m : {1, 3}) {
        for (int64_t cols : {17, 96, 2600}) {
          uint32_t seed = 300;
          const auto x = random_values(m * cols, seed++);
          std::vector<WeightMatrix> weights;
          for (int64_t rows : {37, 1, 129}) {
            WeightMatrix w = make_weight(f == WeightFormat::BF16 ? f : WeightFormat::F32, rows, cols,
                                         random_values(rows * cols, seed++));
            if (f == WeightFormat::Q8 || f == WeightFormat::Q4) w = quantize_weight(w, f);
            weights.push_back(w);
          }
          const auto bias = random_values(129, seed++);
          std::vector<std::vector<float>> got(3), want(3);
          std::vector<LinearOutput> outs;
          for (size_t l = 0; l < weights.size(); ++l) {
            got[l].assign(m * weights[l].rows, NAN);
            want[l].assign(m * weights[l].rows, NAN);
            outs.push_back({&weights[l], l == 1 ? nullptr : bias.data(), got[l].data()});
          }
          matmul_multi(x.data(), m, outs, two_threads());
          for (size_t l = 0; l < weights.size(); ++l) {
            ThreadPool one(1);
            matmul(x.data(), m, weights[l], outs[l].bias, want[l].data(), one);
            EXPECT_EQ(got[l], want[l]) << weight_format_name(f) << " " << isa_level_name(isa) << " m=" << m
                                       << " cols=" << cols << " layer " << l;
          }
        }
      }
    }
  }
}

// Layers with their own inputs (a MoE layer's down projections, one input
// per selected expert), mixed with layers reading the shared input: each
// result equals its own matmul() bit for bit, on every ISA.
TEST_P(MatmulMultiSimd, OwnInputsEqualOneMatmulPerLayerExactly) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::Q8, WeightFormat::Q4}) {
    {
      for (int64_t m : {1, 2}) {
        uint32_t seed = 700;
        const int64_t shared_cols = 45;
        const auto shared = random_values(m * shared_cols, seed++);
        struct Layer {
          int64_t rows, cols;
          bool own;
        };
        const Layer layers[] = {{33, 77, true}, {17, shared_cols, false}, {1, 31, true}, {150, 300, true}};
        std::vector<WeightMatrix> weights;
        std::vector<std::vector<float>> inputs, got, want;
        std::vector<LinearOutput> outs;
        for (const Layer& l : layers) {
          WeightMatrix w = make_weight(f == WeightFormat::BF16 ? f : WeightFormat::F32, l.rows, l.cols,
                                       random_values(l.rows * l.cols, seed++));
          if (f == WeightFormat::Q8 || f == WeightFormat::Q4) w = quantize_weight(w, f);
          weights.push_back(w);
          inputs.push_back(l.own ? random_values(m * l.cols, seed++) : shared);
          got.emplace_back(m * l.rows, NAN);
          want.emplace_back(m * l.rows, NAN);
        }
        for (size_t i = 0; i < weights.size(); ++i)
          outs.push_back({&weights[i], nullptr, got[i].data(), layers[i].own ? inputs[i].data() : nullptr});
        matmul_multi(shared.data(), m, outs, two_threads());
        for (size_t i = 0; i < weights.size(); ++i) {
          ThreadPool one(1);
          matmul(inputs[i].data(), m, weights[i], nullptr, want[i].data(), one);
          EXPECT_EQ(got[i], want[i]) << weight_format_name(f) << " " << isa_level_name(isa) << " m=" << m
                                     << " layer " << i;
        }
        // Every layer with its own input: no shared input needed.
        std::vector<LinearOutput> own_only = {outs[0], outs[2]};
        std::fill(got[0].begin(), got[0].end(), NAN);
        matmul_multi(nullptr, m, own_only, two_threads());
        EXPECT_EQ(got[0], want[0]) << weight_format_name(f) << " " << isa_level_name(isa);
      }
    }
  }
}

// Batch invariance: each of m rows given to matmul_multi_rowwise comes out
// bit-identical to that row alone through matmul_multi (the decode path), in
// every weight format and on every ISA, whatever the other rows hold.
class MatmulMultiRowwise : public testing::IsaLevelTest {};
QWEN3VL_ALL_ISA_LEVELS(MatmulMultiRowwise);

TEST_P(MatmulMultiRowwise, EachRowEqualsThatRowAloneExactly) {
  const IsaLevel isa = this->isa();
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::F16, WeightFormat::Q8,
                         WeightFormat::Q4}) {
    for (int64_t m : {2, 5, 8}) {
      for (int64_t cols : {17, 96, 2600}) {
        uint32_t seed = 700 + static_cast<uint32_t>(m);
        const auto x = random_values(m * cols, seed++);
        std::vector<WeightMatrix> weights;
        for (int64_t rows : {37, 1, 129}) {
          const bool quantized = f == WeightFormat::Q8 || f == WeightFormat::Q4;
          WeightMatrix w = make_weight(quantized ? WeightFormat::F32 : f, rows, cols, random_values(rows * cols, seed++));
          if (quantized) w = quantize_weight(w, f);
          weights.push_back(w);
        }
        const auto bias = random_values(129, seed++);
        std::vector<std::vector<float>> got(3);
        std::vector<LinearOutput> outs;
        for (size_t l = 0; l < weights.size(); ++l) {
          got[l].assign(m * weights[l].rows, NAN);
          outs.push_back({&weights[l], l == 1 ? nullptr : bias.data(), got[l].data()});
        }
        matmul_multi_rowwise(x.data(), m, outs, two_threads());
        for (int64_t i = 0; i < m; ++i) {
          std::vector<std::vector<float>> alone(3);
          std::vector<LinearOutput> one_row;
          for (size_t l = 0; l < weights.size(); ++l) {
            alone[l].assign(weights[l].rows, NAN);
            one_row.push_back({&weights[l], outs[l].bias, alone[l].data()});
          }
          matmul_multi(x.data() + i * cols, 1, one_row, two_threads());
          for (size_t l = 0; l < weights.size(); ++l) {
            const std::vector<float> row(got[l].begin() + i * weights[l].rows,
                                         got[l].begin() + (i + 1) * weights[l].rows);
            EXPECT_EQ(row, alone[l]) << weight_format_name(f) << " " << isa_level_name(isa) << " m=" << m
                                     << " row " << i << " cols=" << cols << " layer " << l;
          }
        }
      }
    }
  }
}

TEST(MatmulMulti, RejectsLayersOfDifferentInputWidths) {
  const WeightMatrix a = make_f32_weight(2, 3, std::vector<float>(6, 1.0f));
  const WeightMatrix b = make_f32_weight(2, 4, std::vector<float>(8, 1.0f));
  std::vector<float> x(4, 1.0f), ya(2), yb(2);
  const LinearOutput outs[] = {{&a, nullptr, ya.data()}, {&b, nullptr, yb.data()}};
  EXPECT_THROW(matmul_multi(x.data(), 1, outs, two_threads()), Error);
}

}  // namespace
}  // namespace qwen3vl
