// Video decoding and preprocessing against the reference's goldens
// (tests/fixtures/tiny-qwen3vl-video): the clip's frames decoded by FFmpeg
// equal the stored PNG frames bit for bit, and each case's sampled indices,
// timestamps, grid, resized frames and pixel_values_videos match.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/video/frame_source.h"
#include "qwen3vl/video/frame_timestamps.h"
#include "qwen3vl/video/video_preprocess.h"
#include "qwen3vl/video/video_processor_config.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kVideoFixture = QWEN3VL_VIDEO_FIXTURE_DIR;
const std::string kGolden = kVideoFixture + "/golden";

std::string frame_png(int i) {
  char name[64];
  std::snprintf(name, sizeof name, "/video_a_frames/frame_%03d.png", i);
  return kGolden + name;
}

bool same_pixels(const RgbImage& a, const RgbImage& b) {
  return a.width == b.width && a.height == b.height && a.pixels == b.pixels;
}

// The case's video source and sampling request, as the golden JSON states them.
struct CaseVideo {
  std::unique_ptr<FrameSource> source;
  FrameSamplingRequest request;
};

CaseVideo open_case_video(const Json& c) {
  CaseVideo v;
  for (const Json& m : c["messages"]) {
    if (!m["content"].is_array()) continue;
    for (const Json& part : m["content"]) {
      if (part.value("type", "") != "video") continue;
      if (part["video"].is_string()) {
        v.source = open_video_file(kGolden + "/" + part["video"].get<std::string>());
      } else {
        std::vector<std::string> paths;
        for (const Json& p : part["video"]) paths.push_back(kGolden + "/" + p.get<std::string>());
        v.source = open_frame_list(paths);
      }
    }
  }
  if (c["processor_kwargs"].contains("fps")) v.request.fps = c["processor_kwargs"]["fps"].get<double>();
  return v;
}

}  // namespace

TEST(VideoFile, ReadsTheClipMetadata) {
  const auto video = open_video_file(kGolden + "/video_a.avi");
  const FrameSourceInfo& info = video->info();
  EXPECT_EQ(info.width, 160);
  EXPECT_EQ(info.height, 96);
  EXPECT_EQ(info.total_frames, 20);
  ASSERT_TRUE(info.fps.has_value());
  EXPECT_EQ(*info.fps, 10.0);
  EXPECT_FALSE(info.is_frame_list);
}

TEST(VideoFile, DecodedFramesEqualTheStoredPngs) {
  const auto video = open_video_file(kGolden + "/video_a.avi");
  std::vector<int64_t> all(20);
  for (int i = 0; i < 20; ++i) all[i] = i;
  int seen = 0;
  video->read_frames(all, [&](size_t k, const RgbImage& frame) {
    EXPECT_TRUE(same_pixels(frame, load_image_file(frame_png(static_cast<int>(k))))) << "frame " << k;
    ++seen;
  });
  EXPECT_EQ(seen, 20);
}

TEST(VideoFile, ReadsOnlyRequestedFramesWithRepeatsAndAgain) {
  const auto video = open_video_file(kGolden + "/video_a.avi");
  const std::vector<int64_t> wanted = {0, 6, 6, 13, 19};
  for (int pass = 0; pass < 2; ++pass) {  // a second read starts over
    std::vector<int64_t> got;
    video->read_frames(wanted, [&](size_t k, const RgbImage& frame) {
      got.push_back(wanted[k]);
      EXPECT_TRUE(same_pixels(frame, load_image_file(frame_png(static_cast<int>(wanted[k]))))) << wanted[k];
    });
    EXPECT_EQ(got, wanted);
  }
  // Only the last frames: reached by seeking (the AVI index has every frame).
  std::vector<int64_t> late = {17, 19};
  int n = 0;
  video->read_frames(late, [&](size_t k, const RgbImage& frame) {
    EXPECT_TRUE(same_pixels(frame, load_image_file(frame_png(static_cast<int>(late[k])))));
    ++n;
  });
  EXPECT_EQ(n, 2);
  EXPECT_THROW(video->read_frames({20}, [](size_t, const RgbImage&) {}), Error);
  EXPECT_THROW(video->read_frames({5, 3}, [](size_t, const RgbImage&) {}), Error);
}

TEST(VideoFile, ReadsFromMemoryLikeFromAFile) {
  std::ifstream in(kGolden + "/video_a.avi", std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 1000u);
  const auto video = open_video_memory(std::move(bytes), "clip in memory");
  EXPECT_EQ(video->info().total_frames, 20);
  EXPECT_EQ(video->info().width, 160);
  const std::vector<int64_t> wanted = {0, 6, 13, 19};
  for (int pass = 0; pass < 2; ++pass) {
    size_t n = 0;
    video->read_frames(wanted, [&](size_t k, const RgbImage& frame) {
      EXPECT_TRUE(same_pixels(frame, load_image_file(frame_png(static_cast<int>(wanted[k])))));
      ++n;
    });
    EXPECT_EQ(n, wanted.size());
  }
  EXPECT_THROW(open_video_memory({'n', 'o', 'p', 'e'}, "junk"), Error);
  EXPECT_THROW(open_video_memory({}, "nothing"), Error);
}

class VideoGoldenCase : public ::testing::TestWithParam<std::string> {};

TEST_P(VideoGoldenCase, PlanAndPixelValuesMatchTheReference) {
  const std::string name = GetParam();
  const Json c = load_json_file(kGolden + "/" + name + ".json");
  const Json& want = c["videos"][0];
  const VideoProcessorConfig config = load_video_processor_config(kVideoFixture);
  CaseVideo v = open_case_video(c);
  ASSERT_TRUE(v.source);

  const VideoPlan plan = plan_video(v.source->info(), v.request, config);
  EXPECT_EQ(plan.frame_indices, want["sampled_frame_indices"].get<std::vector<int64_t>>());
  EXPECT_EQ(plan.timestamp_fps, want["fps_used_for_timestamps"].get<double>());
  const auto seconds = want["timestamps_seconds"].get<std::vector<double>>();
  ASSERT_EQ(plan.timestamps.size(), seconds.size());
  for (size_t i = 0; i < seconds.size(); ++i) {
    EXPECT_EQ(plan.timestamps[i], seconds[i]);
    EXPECT_EQ(timestamp_text(plan.timestamps[i]), want["timestamp_texts"][i].get<std::string>());
  }
  EXPECT_EQ(plan.resized.height, want["resized_hw"][0].get<int>());
  EXPECT_EQ(plan.resized.width, want["resized_hw"][1].get<int>());
  const auto grid = want["video_grid_thw"].get<std::vector<int64_t>>();
  EXPECT_EQ((std::vector<int64_t>{plan.grid_t, plan.grid_h, plan.grid_w}), grid);
  EXPECT_EQ(plan.tokens_per_frame_pair(), want["tokens_per_temporal_patch"].get<int64_t>());

  std::vector<RgbImage> resized;
  const PreprocessedVideo pre = preprocess_video(*v.source, plan, config, qwen3vl::testing::test_pool(), &resized);
  SafetensorsFile golden(kGolden + "/" + name + ".safetensors");
  const TensorView& frames = golden.get("video_frames_resized_0");
  ASSERT_EQ(frames.shape, (std::vector<int64_t>{static_cast<int64_t>(resized.size()), plan.resized.height,
                                                plan.resized.width, 3}));
  const size_t frame_bytes = static_cast<size_t>(plan.resized.height) * plan.resized.width * 3;
  uint64_t sum = 0;
  for (size_t f = 0; f < resized.size(); ++f) {
    EXPECT_EQ(std::memcmp(resized[f].pixels.data(), static_cast<const uint8_t*>(frames.data) + f * frame_bytes,
                          frame_bytes),
              0)
        << "frame " << f;
    for (uint8_t b : resized[f].pixels) sum += b;
  }
  EXPECT_EQ(sum, want["resized_uint8_sum"].get<uint64_t>());

  const TensorView& pv = golden.get("pixel_values_videos");
  ASSERT_EQ(pv.shape, (std::vector<int64_t>{plan.patches(), pre.patch_dim}));
  const std::vector<float> expected = pv.to_f32();
  ASSERT_EQ(pre.pixel_values.size(), expected.size());
  float max_diff = 0;
  for (size_t i = 0; i < expected.size(); ++i) max_diff = std::max(max_diff, std::fabs(pre.pixel_values[i] - expected[i]));
  EXPECT_LE(max_diff, 1e-6f);
  const TensorView& thw = golden.get("video_grid_thw");
  const auto* g = static_cast<const int64_t*>(thw.data);
  EXPECT_EQ((std::vector<int64_t>{plan.grid_t, plan.grid_h, plan.grid_w}), (std::vector<int64_t>{g[0], g[1], g[2]}));
}

INSTANTIATE_TEST_SUITE_P(Cases, VideoGoldenCase,
                         ::testing::Values("vcase1_video", "vcase2_image_and_video", "vcase3_frame_list"));

TEST(VideoValueTables, FusedNormalisationOfTheQwenConfig) {
  PreprocessorConfig c;  // mean = std = 0.5, rescale 1/255
  const SampleValueTables t = video_value_tables(c);
  EXPECT_EQ(t[0][0], -1.0f);
  EXPECT_EQ(t[1][255], 1.0f);
  EXPECT_EQ(t[2][100], (100.0f - 127.5f) / 127.5f);
}
