// Sampling, resizing and timestamp rules of the Qwen3-VL video processor
// against the reference's rule tables (video_rule_tables.json: extra inputs
// run through transformers' functions, no model) and hand-derived values.
#include <gtest/gtest.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/video/frame_sampling.h"
#include "qwen3vl/video/frame_timestamps.h"
#include "qwen3vl/video/video_processor_config.h"
#include "qwen3vl/video/video_prompt.h"
#include "qwen3vl/video/video_smart_resize.h"

using namespace qwen3vl;

namespace {

const std::string kVideoFixture = QWEN3VL_VIDEO_FIXTURE_DIR;

Json rule_tables() { return load_json_file(kVideoFixture + "/golden/video_rule_tables.json"); }

VideoProcessorConfig fixture_config() { return load_video_processor_config(kVideoFixture); }

}  // namespace

TEST(VideoProcessorConfig, ReadsTheFixtureSettings) {
  const VideoProcessorConfig c = fixture_config();
  EXPECT_EQ(c.fps, 2.0);
  EXPECT_EQ(c.min_frames, 4);
  EXPECT_EQ(c.max_frames, 768);
  EXPECT_EQ(c.frames.min_pixels, 4096);
  EXPECT_EQ(c.frames.max_pixels, 25165824);
  EXPECT_EQ(c.frames.patch_size, 16);
  EXPECT_EQ(c.frames.temporal_patch_size, 2);
  EXPECT_EQ(c.frames.merge_size, 2);
  EXPECT_TRUE(c.do_sample_frames);
  EXPECT_FALSE(c.cap_pixels_per_frame);
  EXPECT_FALSE(c.num_frames.has_value());
}

TEST(VideoProcessorConfig, FallsBackLikeTransformers) {
  // Without size{} the class defaults hold (128*32*32 .. 32*32*768).
  const VideoProcessorConfig c = parse_video_processor_config(Json::parse(R"({"fps": 1})"), "test");
  EXPECT_EQ(c.fps, 1.0);
  EXPECT_EQ(c.frames.min_pixels, 131072);
  EXPECT_EQ(c.frames.max_pixels, 786432);
  EXPECT_THROW(parse_video_processor_config(Json::parse(R"({"fps": 0})"), "test"), Error);
  EXPECT_THROW(parse_video_processor_config(Json::parse(R"({"min_frames": 8, "max_frames": 4})"), "test"), Error);
  // A checkpoint with only preprocessor_config.json: its size{} is used.
  const VideoProcessorConfig dense = load_video_processor_config(QWEN3VL_FIXTURE_DIR);
  EXPECT_EQ(dense.frames.min_pixels, 65536);
  EXPECT_EQ(dense.frames.max_pixels, 16777216);
  EXPECT_EQ(dense.fps, 2.0);
}

TEST(VideoSmartResize, MatchesTheRuleTable) {
  const Json table = rule_tables()["smart_resize_video (factor 32, temporal_factor 2)"];
  ASSERT_GE(table.size(), 10u);
  for (const Json& row : table) {
    const int64_t n = row["num_frames"], h = row["height"], w = row["width"];
    const int64_t lo = row["min_pixels"], hi = row["max_pixels"];
    SCOPED_TRACE(row.dump());
    if (row["result_hw"].is_string()) {
      EXPECT_THROW(smart_resize_video(n, h, w, 32, 2, lo, hi), Error);
    } else {
      const ImageSize s = smart_resize_video(n, h, w, 32, 2, lo, hi);
      EXPECT_EQ(s.height, row["result_hw"][0].get<int>());
      EXPECT_EQ(s.width, row["result_hw"][1].get<int>());
    }
  }
}

TEST(VideoSmartResize, HandDerivedCases) {
  // One frame is less than a frame pair: the reference raises.
  EXPECT_THROW(smart_resize_video(1, 96, 160, 32, 2, 4096, 25165824), Error);
  // 10 s of 640x360 at 2 fps: 20 frames; 360/32 = 11.25 -> 352, 640 -> 640;
  // 20*352*640 = 4.5M inside the budget.
  EXPECT_EQ(smart_resize_video(20, 360, 640, 32, 2, 4096, 25165824), (ImageSize{352, 640}));
  // A side under the factor is scaled up first: 10x100 -> x3.2 -> 32x320.
  EXPECT_EQ(smart_resize_video(4, 10, 100, 32, 2, 4096, 25165824), (ImageSize{32, 320}));
  // Per-frame cap: 768*32*32 = 786432 per frame for 4 frames of 1920x1080.
  EXPECT_EQ(video_max_pixels(4, 32, 4096, 25165824, true), 4 * 786432);
  EXPECT_EQ(video_max_pixels(4, 32, 4096, 25165824, false), 25165824);
  // Floor: int(1.05 * 4096) = 4300 per frame when the even share is smaller.
  EXPECT_EQ(video_max_pixels(10000, 32, 4096, 25165824, true), 10000 * 4300);
}

TEST(VideoFrameSampling, MatchesTheRuleTable) {
  const VideoProcessorConfig config = fixture_config();
  const Json table = rule_tables()["sample_frames (min_frames 4, max_frames 768)"];
  ASSERT_GE(table.size(), 10u);
  for (const Json& row : table) {
    SCOPED_TRACE(row.dump());
    FrameSamplingRequest req;
    if (!row["fps"].is_null()) req.fps = row["fps"].get<double>();
    if (!row["num_frames"].is_null()) req.num_frames = row["num_frames"].get<int64_t>();
    const auto got = sample_frame_indices(row["total_num_frames"], row["video_fps"].get<double>(), req, config);
    ASSERT_EQ(static_cast<int64_t>(got.size()), row["indices_len"].get<int64_t>());
    if (row["indices"].is_array()) {
      EXPECT_EQ(got, row["indices"].get<std::vector<int64_t>>());
    } else {
      const auto first8 = row["indices"]["first8"].get<std::vector<int64_t>>();
      const auto last8 = row["indices"]["last8"].get<std::vector<int64_t>>();
      EXPECT_EQ(std::vector<int64_t>(got.begin(), got.begin() + 8), first8);
      EXPECT_EQ(std::vector<int64_t>(got.end() - 8, got.end()), last8);
    }
  }
}

TEST(VideoFrameSampling, RulesAndErrors) {
  const VideoProcessorConfig config = fixture_config();
  // No rate known: 24 fps. 48 frames -> int(48/24*2) = 4.
  EXPECT_EQ(sample_frame_indices(48, std::nullopt, {}, config), (std::vector<int64_t>{0, 16, 31, 47}));
  // linspace(0, 9, 4) = 0, 3, 6, 9; halves round to even.
  EXPECT_EQ(linspace_rounded(0, 9, 4), (std::vector<int64_t>{0, 3, 6, 9}));
  EXPECT_EQ(linspace_rounded(0, 1, 3), (std::vector<int64_t>{0, 0, 1}));  // 0.5 -> 0
  EXPECT_EQ(linspace_rounded(0, 3, 3), (std::vector<int64_t>{0, 2, 3}));  // 1.5 -> 2
  EXPECT_EQ(linspace_rounded(0, 5, 1), (std::vector<int64_t>{0}));
  FrameSamplingRequest both;
  both.fps = 2;
  both.num_frames = 4;
  EXPECT_THROW(sample_frame_indices(20, 10.0, both, config), Error);
  FrameSamplingRequest zero;
  zero.fps = 0;
  EXPECT_THROW(sample_frame_indices(20, 10.0, zero, config), Error);
  EXPECT_THROW(sample_frame_indices(0, 10.0, {}, config), Error);
  // A fixed count from the config replaces the rate.
  VideoProcessorConfig fixed = config;
  fixed.num_frames = 3;
  EXPECT_EQ(sample_frame_indices(20, 10.0, {}, fixed), (std::vector<int64_t>{0, 10, 19}));  // 9.5 -> 10
}

TEST(VideoTimestamps, MatchTheRuleTable) {
  const Json table = rule_tables()["timestamps (temporal_patch_size 2)"];
  ASSERT_GE(table.size(), 7u);
  for (const Json& row : table) {
    SCOPED_TRACE(row.dump());
    const auto got = frame_pair_timestamps(row["indices"].get<std::vector<int64_t>>(), row["fps"].get<double>(), 2);
    const auto want = row["timestamps"].get<std::vector<double>>();
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      EXPECT_EQ(got[i], want[i]);  // the same float64 operations
      EXPECT_EQ(timestamp_text(got[i]), row["texts"][i].get<std::string>());
    }
  }
}

TEST(VideoTimestamps, FormatsLikePython) {
  EXPECT_EQ(timestamp_text(0.15), "<0.1 seconds>");  // 0.1499999... in binary
  EXPECT_EQ(timestamp_text(0.25), "<0.2 seconds>");  // an exact tie goes to even
  EXPECT_EQ(timestamp_text(1.75), "<1.8 seconds>");  // exact tie, 8 is even
  EXPECT_EQ(timestamp_text(12.0), "<12.0 seconds>");
  EXPECT_THROW(frame_pair_timestamps({}, 10, 2), Error);
}

TEST(VideoPrompt, ExpandsPlaceholdersInBothForms) {
  const std::string text = video_prompt_text({0.3, 1.6});
  EXPECT_EQ(text,
            "<0.3 seconds><|vision_start|><|video_pad|><|vision_end|>"
            "<1.6 seconds><|vision_start|><|video_pad|><|vision_end|>");
  const std::string prompt = "a <|vision_start|><|video_pad|><|vision_end|> b";
  EXPECT_EQ(expand_video_placeholders(prompt, {text}, VideoPromptForm::ReplaceWrapper), "a " + text + " b");
  EXPECT_EQ(expand_video_placeholders(prompt, {text}, VideoPromptForm::KeepWrapper),
            "a <|vision_start|>" + text + "<|vision_end|> b");
  EXPECT_THROW(expand_video_placeholders(prompt, {}, VideoPromptForm::ReplaceWrapper), Error);
  EXPECT_THROW(expand_video_placeholders(prompt, {text, text}, VideoPromptForm::ReplaceWrapper), Error);
}
