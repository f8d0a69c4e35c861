#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/kernels/rotary.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/mrope.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {
const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::vector<int32_t> to_i32(const TensorView& t) {
  const auto* p = static_cast<const int64_t*>(t.data);
  return std::vector<int32_t>(p, p + t.numel());
}
}  // namespace

// head_dim 16 -> 8 slots, section (4, 2, 2): H drives slots 1 and 4 (below
// 3*2 = 6), W drives 2 and 5, T keeps 0, 3, 6, 7.
TEST(MRope, InterleavedSlotsTakeTheirAxisPositions) {
  const double theta = 10000.0;
  MRope rope(16, theta, {4, 2, 2});
  const std::vector<int32_t> t = {3}, h = {5}, w = {7};
  std::vector<float> cos(16), sin(16);
  rope.tables({std::span<const int32_t>(t), std::span<const int32_t>(h), std::span<const int32_t>(w)}, cos.data(),
              sin.data());
  const int axis_pos[8] = {3, 5, 7, 3, 5, 7, 3, 3};
  for (int i = 0; i < 8; ++i) {
    const double angle = axis_pos[i] * std::pow(theta, -2.0 * i / 16.0);
    EXPECT_NEAR(cos[i], std::cos(angle), 1e-6) << i;
    EXPECT_NEAR(sin[i], std::sin(angle), 1e-6) << i;
    EXPECT_EQ(cos[i + 8], cos[i]);  // both halves share the angle
    EXPECT_EQ(sin[i + 8], sin[i]);
  }
}

TEST(MRope, RotateHalfOnAHandExample) {
  // head_dim 4: pairs (x0, x2) and (x1, x3) rotate by their slot's angle.
  std::vector<float> x = {1, 2, 3, 4};
  const float a0 = 0.5f, a1 = 1.25f;
  const std::vector<float> cos = {std::cos(a0), std::cos(a1), std::cos(a0), std::cos(a1)};
  const std::vector<float> sin = {std::sin(a0), std::sin(a1), std::sin(a0), std::sin(a1)};
  apply_rotary(x.data(), 1, 4, 1, 4, cos.data(), sin.data(), qwen3vl::testing::test_pool());
  EXPECT_NEAR(x[0], 1 * std::cos(a0) - 3 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[2], 3 * std::cos(a0) + 1 * std::sin(a0), 1e-6);
  EXPECT_NEAR(x[1], 2 * std::cos(a1) - 4 * std::sin(a1), 1e-6);
  EXPECT_NEAR(x[3], 4 * std::cos(a1) + 2 * std::sin(a1), 1e-6);
}

TEST(MRope, MatchesGoldenTablesForTextAndImages) {
  const ModelConfig cfg = load_model_config(kFixture + "/config.json");
  MRope rope(cfg.text.head_dim, cfg.text.rope_theta, cfg.text.mrope_section);
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    SafetensorsFile g(kFixture + "/golden/" + name + ".safetensors");
    const std::vector<int32_t> pos = to_i32(g.get("position_ids"));
    const size_t L = pos.size() / 3;
    const std::span<const int32_t> p(pos);
    std::vector<float> cos(L * cfg.text.head_dim), sin(cos.size());
    rope.tables({p.subspan(0, L), p.subspan(L, L), p.subspan(2 * L, L)}, cos.data(), sin.data());
    const auto want_cos = g.get("text_rope_cos").to_f32();
    const auto want_sin = g.get("text_rope_sin").to_f32();
    ASSERT_EQ(want_cos.size(), cos.size());
    float worst = 0.0f;
    for (size_t i = 0; i < cos.size(); ++i)
      worst = std::max({worst, std::fabs(cos[i] - want_cos[i]), std::fabs(sin[i] - want_sin[i])});
    EXPECT_LE(worst, 1e-5f) << name;
  }
}

TEST(MRope, RejectsBadSections) {
  EXPECT_THROW(MRope(16, 1e4, {4, 2, 1}), Error);
  EXPECT_THROW(MRope(15, 1e4, {4, 2, 1}), Error);
}
