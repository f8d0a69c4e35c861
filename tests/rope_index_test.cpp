#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/rope_index.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::vector<int64_t> i64(const TensorView& t) {
  const int64_t* p = static_cast<const int64_t*>(t.data);
  return std::vector<int64_t>(p, p + t.numel());
}

constexpr int64_t kImg = 151655, kVid = 151656, kStart = 151652, kEnd = 151653;

std::vector<int64_t> pads(int64_t id, int n) { return std::vector<int64_t>(static_cast<size_t>(n), id); }

std::vector<int64_t> concat(std::initializer_list<std::vector<int64_t>> parts) {
  std::vector<int64_t> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

}  // namespace

TEST(RopeIndex, MatchesGoldenForAllCases) {
  const RopeIndexSpec spec = RopeIndexSpec::from_config(load_model_config(kFixture + "/config.json"));
  for (const char* name : {"case1_text", "case2_one_image", "case3_two_images"}) {
    SCOPED_TRACE(name);
    SafetensorsFile golden(kFixture + "/golden/" + name + ".safetensors");
    std::vector<VisionGrid> grids;
    if (golden.has("image_grid_thw")) {
      const TensorView& g = golden.get("image_grid_thw");
      grids = vision_grids_from_thw(static_cast<const int64_t*>(g.data), g.shape[0]);
    }
    const RopeIndex r = compute_rope_index(i64(golden.get("input_ids")), grids, {}, spec);
    EXPECT_EQ(r.positions, i64(golden.get("position_ids")));
    EXPECT_EQ(r.rope_delta, i64(golden.get("rope_deltas"))[0]);
  }
}

TEST(RopeIndex, TextOnlyCountsUpOnAllAxes) {
  const RopeIndex r = compute_rope_index({5, 6, 7, 8}, {}, {}, RopeIndexSpec{});
  EXPECT_EQ(r.positions, (std::vector<int64_t>{0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3}));
  EXPECT_EQ(r.rope_delta, 0);
}

TEST(RopeIndex, TwoImagesOfDifferentGridsByHand) {
  // Image A: 4x6 patches -> 2x3 tokens; image B: 2x4 patches -> 1x2 tokens.
  const std::vector<int64_t> ids =
      concat({{10, 11, kStart}, pads(kImg, 6), {kEnd, 12, kStart}, pads(kImg, 2), {kEnd, 13}});
  ASSERT_EQ(ids.size(), 16u);
  const RopeIndex r = compute_rope_index(ids, {{1, 4, 6}, {1, 2, 4}}, {}, RopeIndexSpec{});
  // Text 0,1,2; A starts at 3 (rows 3..4, cols 3..5); after it 6,7,8; B starts
  // at 9 (row 9, cols 9..10); then 11, 12.
  const std::vector<int64_t> t = {0, 1, 2, 3, 3, 3, 3, 3, 3, 6, 7, 8, 9, 9, 11, 12};
  const std::vector<int64_t> h = {0, 1, 2, 3, 3, 3, 4, 4, 4, 6, 7, 8, 9, 9, 11, 12};
  const std::vector<int64_t> w = {0, 1, 2, 3, 4, 5, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  EXPECT_EQ(r.positions, concat({t, h, w}));
  EXPECT_EQ(r.rope_delta, 13 - 16);
  EXPECT_EQ(r.axis(2)[13], 10);
}

TEST(RopeIndex, VideoFramesAreSeparateBlocksWithFrameIndexZero) {
  // A 2-frame video of 2x2 patches: each frame one token, each preceded by its
  // own timestamp text and vision start.
  const std::vector<int64_t> ids = {kStart, kVid, kEnd, 50, kStart, kVid, kEnd};
  const RopeIndex r = compute_rope_index(ids, {}, {{2, 2, 2}}, RopeIndexSpec{});
  EXPECT_EQ(r.positions, concat({{0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4, 5, 6}, {0, 1, 2, 3, 4, 5, 6}}));
  EXPECT_EQ(r.rope_delta, 0);
}

TEST(RopeIndex, ImageWithSeveralTemporalPatchesUsesFrameIndex) {
  // t=2, 2x2 patches: tokens at (s, s, s) and (s+1, s, s).
  const RopeIndex r = compute_rope_index({1, kImg, kImg, 2}, {{2, 2, 2}}, {}, RopeIndexSpec{});
  EXPECT_EQ(r.positions, concat({{0, 1, 2, 3}, {0, 1, 1, 3}, {0, 1, 1, 3}}));
  EXPECT_EQ(r.rope_delta, 0);
}

TEST(RopeIndex, RejectsGridsThatDoNotMatchThePrompt) {
  const std::vector<int64_t> one_image = concat({{kStart}, pads(kImg, 6), {kEnd}});
  // Two grids, one block.
  EXPECT_THROW(compute_rope_index(one_image, {{1, 4, 6}, {1, 2, 2}}, {}, RopeIndexSpec{}), Error);
  // No grid for the block.
  EXPECT_THROW(compute_rope_index(one_image, {}, {}, RopeIndexSpec{}), Error);
  // Block shorter than its grid.
  EXPECT_THROW(compute_rope_index(one_image, {{1, 4, 8}}, {}, RopeIndexSpec{}), Error);
  // Block longer than its grid: the leftover reads as a second, ungridded block.
  EXPECT_THROW(compute_rope_index(one_image, {{1, 2, 4}}, {}, RopeIndexSpec{}), Error);
  try {
    compute_rope_index(one_image, {{1, 4, 8}}, {}, RopeIndexSpec{});
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("needs 8"), std::string::npos) << e.what();
  }
}
