#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/vision_inputs.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::vector<VisionGrid> golden_grids(const SafetensorsFile& f) {
  const TensorView& g = f.get("image_grid_thw");
  return vision_grids_from_thw(static_cast<const int64_t*>(g.data), g.shape[0]);
}

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

// Blends the checkpoint's position table with the computed indices/weights.
std::vector<float> blend_positions(const VisionInputs& in, const std::vector<float>& table, int64_t hidden) {
  std::vector<float> out(static_cast<size_t>(in.num_patches * hidden), 0.0f);
  for (int64_t p = 0; p < in.num_patches; ++p)
    for (int k = 0; k < VisionInputs::kCorners; ++k)
      for (int64_t j = 0; j < hidden; ++j)
        out[p * hidden + j] += in.pos_weight[p * 4 + k] * table[in.pos_index[p * 4 + k] * hidden + j];
  return out;
}

VisionInputsSpec spec_with(int side, int merge, int head_dim) {
  VisionInputsSpec s;
  s.position_table_side = side;
  s.merge_size = merge;
  s.head_dim = head_dim;
  return s;
}

// The (row, col) a patch's rotary encodes: with head_dim 16 the first row and
// column frequencies are 1, so the angles are the positions themselves.
std::pair<int, int> rope_position(const VisionInputs& in, int64_t p) {
  const int hd = in.head_dim, n_freq = hd / 4;
  const float* c = &in.rope_cos[p * hd];
  const float* s = &in.rope_sin[p * hd];
  auto angle = [](float cs, float sn) {
    double a = std::atan2(double(sn), double(cs));
    if (a < -1e-6) a += 2 * M_PI;
    return static_cast<int>(std::lround(a));
  };
  return {angle(c[0], s[0]), angle(c[n_freq], s[n_freq])};
}

}  // namespace

TEST(VisionInputs, LinspaceCountsUpThenDownFromTheEnds) {
  const std::vector<float> v = linspace_f32(0.0f, 47.0f, 18);
  ASSERT_EQ(v.size(), 18u);
  const float step = 47.0f / 17.0f;
  EXPECT_EQ(v.front(), 0.0f);
  EXPECT_EQ(v[3], step * 3.0f);
  EXPECT_EQ(v[8], step * 8.0f);            // last index below halfway 9
  EXPECT_EQ(v[9], 47.0f - step * 8.0f);    // first index anchored at the end
  EXPECT_EQ(v.back(), 47.0f);
  EXPECT_EQ(linspace_f32(0.0f, 47.0f, 1), std::vector<float>{0.0f});
  EXPECT_EQ(linspace_f32(0.0f, 1.0f, 3), (std::vector<float>{0.0f, 0.5f, 1.0f}));
}

TEST(VisionInputs, BilinearTwoByTwoTableToThreeByThree) {
  // Table values 1 2 / 3 4; align-corners sampling at 0, 0.5, 1 on each axis.
  const VisionInputs in = compute_vision_inputs({{1, 3, 3}}, spec_with(2, 1, 16));
  ASSERT_EQ(in.num_patches, 9);
  const std::vector<float> table = {1, 2, 3, 4};
  const std::vector<float> blended = blend_positions(in, table, 1);
  const std::vector<float> expected = {1, 1.5f, 2, 2, 2.5f, 3, 3, 3.5f, 4};
  EXPECT_EQ(blended, expected);
  // Centre patch: all four corners at a quarter each.
  EXPECT_EQ(std::vector<int64_t>(in.pos_index.begin() + 16, in.pos_index.begin() + 20),
            (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(std::vector<float>(in.pos_weight.begin() + 16, in.pos_weight.begin() + 20),
            (std::vector<float>{0.25f, 0.25f, 0.25f, 0.25f}));
  // Last patch: floor 1 and ceil clamped to 1, all weight on the first corner.
  EXPECT_EQ(std::vector<int64_t>(in.pos_index.begin() + 32, in.pos_index.end()),
            (std::vector<int64_t>{3, 3, 3, 3}));
  EXPECT_EQ(std::vector<float>(in.pos_weight.begin() + 32, in.pos_weight.end()),
            (std::vector<float>{1, 0, 0, 0}));
}

TEST(VisionInputs, PatchesFollowMergeBlockOrder) {
  // 2 frames of 2x4 patches: blocks (0,0) then (0,1), each 2x2 row-major.
  const VisionInputs in = compute_vision_inputs({{2, 2, 4}}, spec_with(48, 2, 16));
  ASSERT_EQ(in.num_patches, 16);
  const std::vector<std::pair<int, int>> frame = {{0, 0}, {0, 1}, {1, 0}, {1, 1},
                                                  {0, 2}, {0, 3}, {1, 2}, {1, 3}};
  for (int64_t p = 0; p < 16; ++p) EXPECT_EQ(rope_position(in, p), frame[p % 8]) << "patch " << p;
  // Each frame is its own attention segment.
  EXPECT_EQ(in.cu_seqlens, (std::vector<int64_t>{0, 8, 16}));
  // Position embedding follows the same order: patch 4 is row 0, column 2 of 4
  // -> linspace(0,47,4)[2] = 31.333 -> floor 31, ceil 32; row 0 -> floor 0, ceil 1.
  EXPECT_EQ(std::vector<int64_t>(in.pos_index.begin() + 16, in.pos_index.begin() + 20),
            (std::vector<int64_t>{31, 32, 48 + 31, 48 + 32}));
  // The second frame repeats the first.
  for (int64_t i = 0; i < 32; ++i) EXPECT_EQ(in.pos_index[i], in.pos_index[32 + i]);
}

TEST(VisionInputs, RotaryFrequenciesSplitBetweenRowsAndColumns) {
  // head_dim 16: 4 frequencies 1, 0.1, 0.01, 0.001 for rows, then 4 for columns,
  // and the 8 angles repeated.
  const VisionInputs in = compute_vision_inputs({{1, 4, 6}}, spec_with(48, 2, 16));
  // Patch at row 3, column 5: block (1, 2), offset (1, 1) -> 4*(1*3+2) + 3 = 23.
  const float* c = &in.rope_cos[23 * 16];
  const float* s = &in.rope_sin[23 * 16];
  const double freq[4] = {1.0, 0.1, 0.01, 0.001};
  for (int j = 0; j < 4; ++j) {
    for (int half = 0; half < 2; ++half) {
      EXPECT_NEAR(c[half * 8 + j], std::cos(3 * freq[j]), 1e-6);
      EXPECT_NEAR(s[half * 8 + j], std::sin(3 * freq[j]), 1e-6);
      EXPECT_NEAR(c[half * 8 + 4 + j], std::cos(5 * freq[j]), 1e-6);
      EXPECT_NEAR(s[half * 8 + 4 + j], std::sin(5 * freq[j]), 1e-6);
    }
  }
}

TEST(VisionInputs, RejectsGridsTheMergerCannotGroup) {
  EXPECT_THROW(compute_vision_inputs({{1, 4, 4}, {1, 3, 4}}, spec_with(48, 2, 16)), Error);
  EXPECT_THROW(compute_vision_inputs({{0, 4, 4}}, spec_with(48, 2, 16)), Error);
  EXPECT_THROW(compute_vision_inputs({{1, 4, 4}}, spec_with(48, 2, 14)), Error);
  try {
    compute_vision_inputs({{1, 4, 4}, {1, 3, 4}}, spec_with(48, 2, 16));
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 1"), std::string::npos) << e.what();
  }
}

TEST(VisionInputs, MatchesGoldenPositionEmbeddingsAndRotary) {
  const ModelConfig cfg = load_model_config(kFixture + "/config.json");
  Checkpoint ckpt(kFixture);
  const std::vector<float> table = ckpt.get("model.visual.pos_embed.weight").to_f32();
  for (const char* name : {"case2_one_image", "case3_two_images"}) {
    SCOPED_TRACE(name);
    SafetensorsFile golden(kFixture + "/golden/" + name + ".safetensors");
    const std::vector<VisionGrid> grids = golden_grids(golden);
    const VisionInputs in = compute_vision_inputs(grids, VisionInputsSpec::from_config(cfg.vision));
    EXPECT_EQ(in.num_patches, golden.get("vision_pos_embeds").shape[0]);
    // 1e-5: the reference's vectorised linspace differs from ours by 1 ulp in
    // a few coordinates (see linspace_f32); a wrong sampling mode (half-pixel,
    // no clamping) moves coordinates by a large part of a table cell instead.
    EXPECT_LT(max_abs_diff(blend_positions(in, table, cfg.vision.hidden_size),
                           golden.get("vision_pos_embeds").to_f32()),
              1.5e-5f);
    EXPECT_LT(max_abs_diff(in.rope_cos, golden.get("vision_rope_cos").to_f32()), 1e-6f);
    EXPECT_LT(max_abs_diff(in.rope_sin, golden.get("vision_rope_sin").to_f32()), 1e-6f);
    std::vector<int64_t> cu = {0};
    for (const VisionGrid& g : grids) cu.push_back(cu.back() + g.h * g.w);
    EXPECT_EQ(in.cu_seqlens, cu);
  }
}
