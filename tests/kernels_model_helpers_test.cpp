// The small kernels model code hands its format- and layout-specific work to:
// the LM head's leading rows, embedding lookups, KV-cache stores and the
// rotate-half RoPE. Each is checked against the plain computation it replaces.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels_test_util.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cached_attention.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/kernels/rotary.h"
#include "test_pool.h"

namespace qwen3vl {
namespace {

TEST(MatmulLeadingRows, EqualsThePrefixOfTheFullProductInEveryFormat) {
  const int64_t rows = 45, cols = 70, m = 3;  // 45 rows: a partial 16-row tile
  const auto values = testing::random_values(static_cast<size_t>(rows * cols), 11);
  const auto x = testing::random_values(static_cast<size_t>(m * cols), 12);
  ThreadPool& pool = qwen3vl::testing::test_pool();
  for (WeightFormat f : {WeightFormat::F32, WeightFormat::BF16, WeightFormat::F16, WeightFormat::Q8, WeightFormat::Q4}) {
    const WeightMatrix plain = testing::make_weight(f == WeightFormat::F16 ? f : WeightFormat::BF16, rows, cols, values);
    const WeightMatrix w = f == WeightFormat::Q8 || f == WeightFormat::Q4 ? quantize_weight(plain, f)
                           : f == WeightFormat::F32                       ? testing::make_weight(f, rows, cols, values)
                                                                          : plain;
    std::vector<float> full(static_cast<size_t>(m * rows));
    matmul(x.data(), m, w, nullptr, full.data(), pool);
    for (int64_t keep : {int64_t{1}, int64_t{17}, int64_t{44}, rows}) {
      std::vector<float> got(static_cast<size_t>(m * keep), -1.0f);
      matmul_leading_rows(x.data(), m, w, keep, got.data(), pool);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t r = 0; r < keep; ++r)
          ASSERT_EQ(got[i * keep + r], full[i * rows + r])
              << weight_format_name(f) << " keep " << keep << " row " << i << " col " << r;
    }
    std::vector<float> out(static_cast<size_t>(m * rows));
    EXPECT_THROW(matmul_leading_rows(x.data(), m, w, rows + 1, out.data(), pool), Error);
    EXPECT_THROW(matmul_leading_rows(x.data(), m, w, 0, out.data(), pool), Error);
  }
}

TEST(WeightRowsToF32, GathersEachRowAsWeightRowToF32AndRefusesBadIds) {
  const int64_t rows = 20, cols = 33;
  const auto values = testing::random_values(static_cast<size_t>(rows * cols), 13);
  const WeightMatrix w = quantize_weight(testing::make_weight(WeightFormat::BF16, rows, cols, values), WeightFormat::Q4);
  const std::vector<int32_t> ids = {3, 0, 19, 3, 7, 12, 1, 18, 5};
  std::vector<float> got(ids.size() * cols), want(cols);
  weight_rows_to_f32(w, ids, got.data(), qwen3vl::testing::test_pool());
  for (size_t i = 0; i < ids.size(); ++i) {
    weight_row_to_f32(w, ids[i], want.data());
    for (int64_t c = 0; c < cols; ++c) ASSERT_EQ(got[i * cols + c], want[c]) << "id " << ids[i];
  }
  const std::vector<int32_t> bad = {2, 20};
  EXPECT_THROW(weight_rows_to_f32(w, bad, got.data(), qwen3vl::testing::test_pool()), Error);
  const std::vector<int32_t> negative = {-1};
  EXPECT_THROW(weight_rows_to_f32(w, negative, got.data(), qwen3vl::testing::test_pool()), Error);
}

TEST(StoreKvRows, RoundTripsThroughKvRowToF32WithinEachFormatsRounding) {
  const int64_t stride = 64, n = 5, first = 2;
  const auto src = testing::random_values(static_cast<size_t>(n * stride), 14, -3.0f, 3.0f);
  for (KVElement type : {KVElement::F32, KVElement::F16, KVElement::BF16, KVElement::Q8}) {
    const int group = 32;
    std::vector<uint8_t> data(static_cast<size_t>((first + n) * stride) * 4, 0);
    std::vector<float> scales(static_cast<size_t>((first + n) * stride / group), 0.0f);
    store_kv_rows(src.data(), first, n, type, stride, group, data.data(), scales.data());
    KVRows rows{type, data.data(), scales.data(), stride, group};
    std::vector<float> back(stride);
    for (int64_t j = 0; j < n; ++j) {
      kv_row_to_f32(rows, first + j, 0, stride, back.data());
      for (int64_t c = 0; c < stride; ++c) {
        const float x = src[j * stride + c];
        // Half an ulp of each format: f16 2^-11, bf16 2^-8 relative; q8 half a step of amax/127 (amax <= 3).
        const float tol = type == KVElement::F32    ? 0.0f
                          : type == KVElement::F16  ? std::fabs(x) * 0x1p-11f
                          : type == KVElement::BF16 ? std::fabs(x) * 0x1p-8f
                                                    : 3.0f / 127.0f / 2.0f * 1.0001f;
        ASSERT_NEAR(back[c], x, tol) << "type " << static_cast<int>(type) << " row " << j << " col " << c;
      }
    }
  }
  // Q8 by hand: a group whose largest magnitude is 127 has scale 1 and keeps integers exactly.
  std::vector<float> ints(32);
  for (int i = 0; i < 32; ++i) ints[i] = static_cast<float>(i * 4 - 127 + (i == 0 ? 0 : 3));
  ints[0] = -127.0f;
  std::vector<int8_t> q(32);
  float scale = 0.0f;
  store_kv_rows(ints.data(), 0, 1, KVElement::Q8, 32, 32, q.data(), &scale);
  EXPECT_EQ(scale, 1.0f);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(q[i], static_cast<int8_t>(ints[i])) << i;
}

TEST(ApplyRotary, ManyRowsOverThePoolEqualOneRowAtATime) {
  const int64_t rows = 150, heads = 3, hd = 16, stride = heads * hd + 4;  // padded rows keep their padding
  auto x = testing::random_values(static_cast<size_t>(rows * stride), 15);
  const auto cos = testing::random_values(static_cast<size_t>(rows * hd), 16);
  const auto sin = testing::random_values(static_cast<size_t>(rows * hd), 17);
  auto one_by_one = x;
  apply_rotary(x.data(), rows, stride, heads, hd, cos.data(), sin.data(), qwen3vl::testing::test_pool());
  ThreadPool single(1);
  for (int64_t r = 0; r < rows; ++r)
    apply_rotary(one_by_one.data() + r * stride, 1, stride, heads, hd, cos.data() + r * hd, sin.data() + r * hd,
                 single);
  EXPECT_EQ(x, one_by_one);
  // Row 0, head 1, pair (0, 8) by hand.
  const auto orig = testing::random_values(static_cast<size_t>(rows * stride), 15);
  const float a = orig[hd], b = orig[hd + 8];
  EXPECT_FLOAT_EQ(x[hd], a * cos[0] - b * sin[0]);
  EXPECT_FLOAT_EQ(x[hd + 8], b * cos[8] + a * sin[8]);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = heads * hd; c < stride; ++c) ASSERT_EQ(x[r * stride + c], orig[r * stride + c]);
}

}  // namespace
}  // namespace qwen3vl
