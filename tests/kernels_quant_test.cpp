#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"

namespace qwen3vl {
namespace {

using testing::make_weight;
using testing::random_values;

int max_level(WeightFormat f) { return f == WeightFormat::Q8 ? 127 : 7; }

// Symmetric rounding to the nearest level of step d = amax/qmax (d rounded to
// f16, relative error ≤ 2⁻¹¹ — far too small to push amax past the last
// level's half-step): every value is within d/2 of its reconstruction.
TEST(KernelsQuant, RoundTripErrorIsAtMostHalfAStep) {
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    for (int64_t cols : {32, 50, 96}) {
      const int64_t rows = 19;
      const auto values = random_values(rows * cols, 3, -2.0f, 2.0f);
      for (WeightFormat src : {WeightFormat::F32, WeightFormat::BF16}) {
        const WeightMatrix ws = make_weight(src, rows, cols, values);
        const WeightMatrix wq = quantize_weight(ws, f);
        EXPECT_EQ(wq.rows, rows);
        EXPECT_EQ(wq.cols, cols);
        std::vector<float> original(cols), restored(cols);
        for (int64_t n = 0; n < rows; ++n) {
          weight_row_to_f32(ws, n, original.data());
          dequantize_row(wq, n, restored.data());
          for (int64_t g0 = 0; g0 < cols; g0 += kQuantGroup) {
            const int64_t g1 = std::min<int64_t>(cols, g0 + kQuantGroup);
            float amax = 0;
            for (int64_t k = g0; k < g1; ++k) amax = std::max(amax, std::fabs(original[k]));
            const float half_step = 0.5f * amax / max_level(f) * (1.0f + 1e-3f);
            for (int64_t k = g0; k < g1; ++k)
              ASSERT_LE(std::fabs(restored[k] - original[k]), half_step)
                  << weight_format_name(f) << " row " << n << " col " << k;
          }
        }
      }
    }
  }
}

TEST(KernelsQuant, ValuesOnTheGridRoundTripExactly) {
  // Q8: multiples of 0.5 with a ±127 extreme per group → scale 0.5 exactly.
  // Q4: multiples of 0.25 with a ±7 extreme per group → scale 0.25 exactly.
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    const int qmax = max_level(f);
    const float step = f == WeightFormat::Q8 ? 0.5f : 0.25f;
    const int64_t rows = 3, cols = 64;
    std::vector<float> values(rows * cols);
    for (int64_t i = 0; i < rows * cols; ++i) {
      const int q = static_cast<int>((i * 37) % (2 * qmax + 1)) - qmax;
      values[i] = step * q;
    }
    for (int64_t n = 0; n < rows; ++n)
      for (int64_t g = 0; g < cols / 32; ++g) values[n * cols + g * 32 + 5] = (g % 2 ? -1 : 1) * step * qmax;
    const WeightMatrix wq = quantize_weight(make_f32_weight(rows, cols, values), f);
    std::vector<float> restored(cols);
    for (int64_t n = 0; n < rows; ++n) {
      dequantize_row(wq, n, restored.data());
      for (int64_t k = 0; k < cols; ++k) ASSERT_EQ(restored[k], values[n * cols + k]) << n << "," << k;
    }
  }
}

TEST(KernelsQuant, ZeroRowsStayZero) {
  const WeightMatrix wq = quantize_weight(make_f32_weight(2, 40, std::vector<float>(80, 0.0f)), WeightFormat::Q4);
  std::vector<float> restored(40, 1.0f);
  dequantize_row(wq, 1, restored.data());
  EXPECT_EQ(restored, std::vector<float>(40, 0.0f));
}

TEST(KernelsQuant, StorageSizeIsWhatTheLayoutPromises) {
  // 16-row tiles × 32-column groups; 16 f16 scales per block.
  EXPECT_EQ(quant_block_bytes(WeightFormat::Q8), 32u + 512u);
  EXPECT_EQ(quant_block_bytes(WeightFormat::Q4), 32u + 256u);
  const WeightMatrix q4 = quantize_weight(make_f32_weight(64, 256, random_values(64 * 256, 1)), WeightFormat::Q4);
  EXPECT_DOUBLE_EQ(q4.bytes() * 8.0 / (64 * 256), 4.5);
  const WeightMatrix q8 = quantize_weight(make_f32_weight(64, 256, random_values(64 * 256, 1)), WeightFormat::Q8);
  EXPECT_DOUBLE_EQ(q8.bytes() * 8.0 / (64 * 256), 8.5);
  // Padding: 17 rows → 2 tiles, 33 columns → 2 groups.
  EXPECT_EQ(quantized_weight_bytes(WeightFormat::Q8, 17, 33), 2u * 2u * 544u);
}

TEST(KernelsQuant, RejectsUnsupportedRequests) {
  const WeightMatrix w = make_f32_weight(2, 32, random_values(64, 1));
  EXPECT_THROW(quantize_weight(w, WeightFormat::Q8, 64), Error);
  EXPECT_THROW(quantize_weight(w, WeightFormat::BF16), Error);
  const WeightMatrix q = quantize_weight(w, WeightFormat::Q8);
  EXPECT_THROW(quantize_weight(q, WeightFormat::Q4), Error);
  std::vector<float> bad(32, NAN);
  EXPECT_THROW(quantize_weight(make_f32_weight(1, 32, bad), WeightFormat::Q8), Error);
}

TEST(KernelsQuant, ActivationQuantizationBlocks) {
  const int64_t m = 3, cols = 70;  // 3 blocks, the last one partial
  const auto x = random_values(m * cols, 11, -3.0f, 3.0f);
  QuantizedActivations a;
  quantize_activations(x.data(), m, cols, a, nullptr);
  ASSERT_EQ(a.blocks, 3);
  for (int64_t i = 0; i < m; ++i) {
    for (int64_t b = 0; b < a.blocks; ++b) {
      float amax = 0;
      for (int64_t k = b * 32; k < std::min<int64_t>(cols, b * 32 + 32); ++k)
        amax = std::max(amax, std::fabs(x[i * cols + k]));
      const float s = a.row_scales(i)[b];
      EXPECT_FLOAT_EQ(s, amax / 127.0f);
      int32_t sum = 0;
      for (int64_t j = 0; j < 32; ++j) {
        const int8_t q = a.row_values(i)[b * 32 + j];
        sum += q;
        const int64_t k = b * 32 + j;
        if (k >= cols) {
          EXPECT_EQ(q, 0) << "padding must be zero";
        } else {
          EXPECT_LE(std::abs(q), 127);
          EXPECT_LE(std::fabs(q * s - x[i * cols + k]), 0.5f * s * 1.0001f);
        }
      }
      EXPECT_EQ(a.row_sums(i)[b], sum);
    }
  }
}

class KernelsQuantSimd : public testing::IsaLevelTest {};
QWEN3VL_SIMD_ISA_LEVELS(KernelsQuantSimd);

// The SIMD activation quantizer performs the scalar one's operations: equal
// bytes, scales and sums, on odd widths (partial last block), rows whose
// magnitudes differ wildly (a zero row included), a single row (decode) and
// .5 ties (x = 127 makes the scale 1, so 2.5 and -3.5 round half to even).
TEST_P(KernelsQuantSimd, ActivationQuantizationIsIdenticalToScalar) {
  for (int64_t m : {1, 9})
  for (int64_t cols : {1, 31, 33, 70, 1100}) {
    auto x = testing::random_values(static_cast<size_t>(m * cols), 77, -3.0f, 3.0f);
    for (int64_t c = 0; m > 4 && c < cols; ++c) {
      x[2 * cols + c] = 0.0f;
      x[3 * cols + c] *= 1e-20f;
      x[4 * cols + c] *= 1e20f;
    }
    if (cols > 40) {
      x[0] = 127.0f;
      x[1] = 2.5f;
      x[2] = -3.5f;
    }
    QuantizedActivations want, got;
    {
      testing::ScopedIsaCap cap(IsaLevel::Scalar);
      quantize_activations(x.data(), m, cols, want, nullptr);
    }
    ThreadPool pool(2);
    quantize_activations(x.data(), m, cols, got, &pool);
    EXPECT_EQ(got.values, want.values) << "m " << m << " cols " << cols;
    EXPECT_EQ(got.scales, want.scales) << "m " << m << " cols " << cols;
    EXPECT_EQ(got.sums, want.sums) << "m " << m << " cols " << cols;
  }
}

TEST(KernelsQuant, QuantizedReferenceAgreesWithDequantizedFloatMath) {
  // The only difference is the int8 activation rounding: per block |δx| ≤ s/2
  // with s = amax/127, so |δy| ≤ Σ_k |w_k| · s_block(k) / 2.
  const int64_t m = 2, rows = 21, cols = 100;
  const auto x = random_values(m * cols, 21);
  const WeightMatrix w = quantize_weight(make_f32_weight(rows, cols, random_values(rows * cols, 22)), WeightFormat::Q4);
  std::vector<float> yq(m * rows), yf(m * rows), wrow(cols);
  quantized_matmul_reference(x.data(), m, w, nullptr, yq.data());
  matmul_reference(x.data(), m, w, nullptr, yf.data());
  QuantizedActivations a;
  quantize_activations(x.data(), m, cols, a, nullptr);
  for (int64_t n = 0; n < rows; ++n) {
    dequantize_row(w, n, wrow.data());
    for (int64_t i = 0; i < m; ++i) {
      double bound = 1e-5;
      for (int64_t k = 0; k < cols; ++k) bound += std::fabs(wrow[k]) * a.row_scales(i)[k / 32] * 0.5;
      EXPECT_NEAR(yq[i * rows + n], yf[i * rows + n], bound);
    }
  }
}

TEST(KernelsCpuFeatures, LevelsFollowFeaturesAndCaps) {
  const CpuFeatures& f = cpu_features();
  const IsaLevel detected = detected_isa_level();
  if (detected >= IsaLevel::Avx2) {
    EXPECT_TRUE(f.avx2 && f.fma && f.f16c && f.os_avx);
  }
  if (detected == IsaLevel::Avx512) {
    EXPECT_TRUE(f.avx512f && f.avx512bw && f.avx512vl && f.avx512_vnni && f.os_avx512);
  }
  if (f.avx512f) {
    EXPECT_TRUE(f.os_avx512) << "AVX-512 reported without OS ZMM state";
  }
  const IsaLevel before = set_isa_level_cap(IsaLevel::Scalar);
  EXPECT_EQ(active_isa_level(), IsaLevel::Scalar);
  EXPECT_EQ(set_isa_level_cap(IsaLevel::Avx2), IsaLevel::Scalar);
  EXPECT_EQ(active_isa_level(), std::min(detected, IsaLevel::Avx2));
  set_isa_level_cap(IsaLevel::Avx512);
  EXPECT_EQ(active_isa_level(), detected);
  set_isa_level_cap(before);
  IsaLevel parsed;
  EXPECT_TRUE(parse_isa_level("avx2", &parsed));
  EXPECT_EQ(parsed, IsaLevel::Avx2);
  EXPECT_FALSE(parse_isa_level("sse9", &parsed));
}

}  // namespace
}  // namespace qwen3vl
