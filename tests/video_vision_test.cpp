// The vision tower on video grids (t > 1 frame pairs) against the reference:
// position embeddings and 2-D rotary repeat for every frame pair, attention
// stays within each pair, and the merger and DeepStack outputs match.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/vision_encoder.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kVideoFixture = QWEN3VL_VIDEO_FIXTURE_DIR;
constexpr float kTolerance = 1e-4f;  // fixture README: vision tensors

float max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  EXPECT_EQ(a.size(), b.size());
  float worst = 0.0f;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, std::abs(a[i] - b[i]));
  return worst;
}

ForwardContext plain() { return ForwardContext{qwen3vl::testing::test_pool()}; }

struct Fixture {
  ModelConfig config = load_model_config(kVideoFixture + "/config.json");
  Checkpoint checkpoint{kVideoFixture};
  VisionEncoder encoder{config, checkpoint, VisionEncoderOptions{}};
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

}  // namespace

class VideoVisionCase : public ::testing::TestWithParam<std::string> {};

TEST_P(VideoVisionCase, TowerMatchesTheReference) {
  SafetensorsFile golden(kVideoFixture + "/golden/" + GetParam() + ".safetensors");
  const VisionEncoder& enc = fixture().encoder;
  const TensorView& thw = golden.get("video_grid_thw");
  const std::vector<VisionGrid> grids = vision_grids_from_thw(static_cast<const int64_t*>(thw.data), thw.shape[0]);
  ASSERT_GT(grids[0].t, 1);
  const VisionInputs inputs = enc.prepare(grids);
  // One attention segment per frame pair.
  EXPECT_EQ(inputs.num_segments(), grids[0].t);
  EXPECT_LT(max_abs_diff(inputs.rope_cos, golden.get("video_vision_rope_cos").to_f32()), 1e-6f);
  EXPECT_LT(max_abs_diff(inputs.rope_sin, golden.get("video_vision_rope_sin").to_f32()), 1e-6f);

  const std::vector<float> pixels = golden.get("pixel_values_videos").to_f32();
  std::map<std::string, std::vector<float>> captured;
  TensorSink sink;
  sink.f32 = [&](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
    captured["video_" + name].assign(data, data + shape[0] * shape[1]);
  };
  const VisionEncoderOutput out = enc.encode(pixels.data(), inputs, ForwardContext{qwen3vl::testing::test_pool(), &sink});
  std::vector<std::string> names = {"video_vision_patch_embed", "video_vision_pos_embeds"};
  for (int b = 0; b < fixture().config.vision.depth; ++b) names.push_back("video_vision_block" + std::to_string(b) + "_out");
  for (const std::string& name : names) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(captured.count(name));
    EXPECT_LT(max_abs_diff(captured[name], golden.get(name).to_f32()), kTolerance);
  }
  EXPECT_LT(max_abs_diff(out.image_embeds, golden.get("video_embeds").to_f32()), kTolerance);
  ASSERT_EQ(out.deepstack.size(), fixture().config.vision.deepstack_visual_indexes.size());
  for (size_t j = 0; j < out.deepstack.size(); ++j) {
    SCOPED_TRACE(j);
    EXPECT_LT(max_abs_diff(out.deepstack[j], golden.get("video_deepstack_" + std::to_string(j)).to_f32()), kTolerance);
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, VideoVisionCase,
                         ::testing::Values("vcase1_video", "vcase2_image_and_video", "vcase3_frame_list"));

TEST(VideoVision, FramePairsAttendOnlyWithinThemselves) {
  // Encoding the second frame pair of vcase1 alone gives the same tokens as
  // its share of the whole clip: nothing leaks between pairs.
  SafetensorsFile golden(kVideoFixture + "/golden/vcase1_video.safetensors");
  const VisionEncoder& enc = fixture().encoder;
  const std::vector<float> pixels = golden.get("pixel_values_videos").to_f32();
  const VisionGrid whole{2, 6, 10};
  const VisionGrid pair{1, 6, 10};
  const int64_t pd = enc.config().patch_dim();
  const VisionEncoderOutput second = enc.encode(pixels.data() + pair.patches() * pd, enc.prepare({pair}), plain());
  const VisionEncoderOutput both = enc.encode(pixels.data(), enc.prepare({whole}), plain());
  const int64_t skip = pair.merged_tokens(2) * both.out_hidden;
  ASSERT_EQ(static_cast<int64_t>(both.image_embeds.size()), 2 * skip);
  EXPECT_LT(max_abs_diff(second.image_embeds,
                         std::vector<float>(both.image_embeds.begin() + skip, both.image_embeds.end())),
            1e-5f);
}
