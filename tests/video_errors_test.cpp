// Bad video input: every case is a clear Error naming the problem, raised
// from the container's metadata where possible (before any frame is decoded),
// never a crash. Clips are made here with FFmpeg's encoders or by damaging
// copies of the fixture clip.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/video/frame_source.h"
#include "qwen3vl/video/video_encode.h"
#include "qwen3vl/video/video_preprocess.h"
#include "error_of.h"
#include "test_pool.h"

using namespace qwen3vl;
using qwen3vl::testing::error_of;

namespace {

const std::string kGolden = std::string(QWEN3VL_VIDEO_FIXTURE_DIR) + "/golden";

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string temp_path(const std::string& name) { return ::testing::TempDir() + "qwen3vl_video_" + name; }

std::string write_bytes(const std::string& name, const std::vector<uint8_t>& bytes) {
  const std::string path = temp_path(name);
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// Position of a RIFF chunk id in the AVI bytes.
size_t find_tag(const std::vector<uint8_t>& b, const char* tag, size_t from = 0) {
  for (size_t i = from; i + 4 <= b.size(); ++i)
    if (std::memcmp(&b[i], tag, 4) == 0) return i;
  ADD_FAILURE() << "no " << tag << " in the clip";
  return 0;
}

void put_u32(std::vector<uint8_t>& b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) b[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

// Runs the whole path a session takes: open, plan, decode.
void load_video(const std::string& path) {
  auto source = open_video_file(path);
  const VideoProcessorConfig config;
  const VideoPlan plan = plan_video(source->info(), {}, config);
  preprocess_video(*source, plan, config, qwen3vl::testing::test_pool());
}

}  // namespace

TEST(VideoBadInput, MissingAndNonVideoFiles) {
  EXPECT_NE(error_of([] { open_video_file(temp_path("does_not_exist.mp4")); }).find("not found"), std::string::npos);
  const std::string text = write_bytes("text.mp4", {'h', 'e', 'l', 'l', 'o', '\n'});
  EXPECT_NE(error_of([&] { open_video_file(text); }).find("not a readable video file"), std::string::npos);
  const std::string empty = write_bytes("empty.avi", {});
  EXPECT_NE(error_of([&] { open_video_file(empty); }), "(no error)");
}

TEST(VideoBadInput, TruncatedFileFailsWhileDecoding) {
  const std::vector<uint8_t> clip = read_bytes(kGolden + "/video_a.avi");
  ASSERT_GT(clip.size(), 100000u);
  const std::string path =
      write_bytes("truncated.avi", std::vector<uint8_t>(clip.begin(), clip.begin() + clip.size() * 2 / 5));
  const std::string e = error_of([&] { load_video(path); });
  EXPECT_NE(e.find("truncated or corrupt"), std::string::npos) << e;
}

TEST(VideoBadInput, CorruptFrameDataIsAnError) {
  std::vector<uint8_t> clip = read_bytes(kGolden + "/video_a.avi");
  // Overwrite the middle of the movie data (compressed PNG frames).
  const size_t movi = find_tag(clip, "movi");
  const size_t mid = movi + (clip.size() - movi) / 2;
  for (size_t i = mid; i < mid + 40000 && i < clip.size(); ++i) clip[i] = static_cast<uint8_t>(i * 131);
  const std::string path = write_bytes("corrupt.avi", clip);
  const std::string e = error_of([&] {
    auto source = open_video_file(path);
    std::vector<int64_t> all(20);
    for (int i = 0; i < 20; ++i) all[i] = i;
    source->read_frames(all, [](size_t, const RgbImage&) {});
  });
  EXPECT_NE(e.find("corrupt"), std::string::npos) << e;
}

TEST(VideoBadInput, AbsurdFrameCountIsRefusedFromTheHeader) {
  std::vector<uint8_t> clip = read_bytes(kGolden + "/video_a.avi");
  // avih dwTotalFrames (offset 16 of its data) and the stream's strh dwLength
  // (offset 32) claim two billion frames.
  const size_t avih = find_tag(clip, "avih");
  put_u32(clip, avih + 8 + 16, 2000000000u);
  const size_t strh = find_tag(clip, "strh");
  put_u32(clip, strh + 8 + 32, 2000000000u);
  const std::string path = write_bytes("absurd_frames.avi", clip);
  const std::string e = error_of([&] { open_video_file(path); });
  EXPECT_NE(e.find("refused before decoding"), std::string::npos) << e;
}

TEST(VideoBadInput, AbsurdFrameSizeIsRefusedFromTheHeader) {
  std::vector<uint8_t> clip = read_bytes(kGolden + "/video_a.avi");
  // BITMAPINFOHEADER in strf: biWidth at +4, biHeight at +8 of its data.
  const size_t strf = find_tag(clip, "strf");
  put_u32(clip, strf + 8 + 4, 300000u);
  put_u32(clip, strf + 8 + 8, 200000u);
  const size_t avih = find_tag(clip, "avih");
  put_u32(clip, avih + 8 + 32, 300000u);
  put_u32(clip, avih + 8 + 36, 200000u);
  const std::string path = write_bytes("absurd_size.avi", clip);
  const std::string e = error_of([&] { load_video(path); });
  EXPECT_NE(e.find("300000x200000 frames"), std::string::npos) << e;
  EXPECT_NE(e.find("refused before decoding"), std::string::npos) << e;
}

TEST(VideoBadInput, UnsupportedCodecIsNamed) {
  std::vector<uint8_t> clip = read_bytes(kGolden + "/video_a.avi");
  // The stream's codec tag (strh fccHandler at +4, strf biCompression at +16).
  const size_t strh = find_tag(clip, "strh");
  std::memcpy(&clip[strh + 8 + 4], "QZQZ", 4);
  const size_t strf = find_tag(clip, "strf");
  std::memcpy(&clip[strf + 8 + 16], "QZQZ", 4);
  const std::string path = write_bytes("unknown_codec.avi", clip);
  const std::string e = error_of([&] { open_video_file(path); });
  EXPECT_NE(e.find("codec"), std::string::npos) << e;
}

TEST(VideoBadInput, ZeroFramesAndSingleFrame) {
  const std::string none = temp_path("zero_frames.avi");
  write_video_file(none, 64, 64, 0, [](int i) { return synthetic_video_frame(64, 64, i, 10); }, {{"png"}, 10});
  const std::string z = error_of([&] { open_video_file(none); });
  EXPECT_NE(z.find("no frames"), std::string::npos) << z;

  const std::string one = temp_path("one_frame.mkv");
  write_video_file(one, 64, 64, 1, [](int i) { return synthetic_video_frame(64, 64, i, 10); }, {{"png"}, 10});
  const std::string e = error_of([&] { load_video(one); });
  EXPECT_NE(e.find("at least 2 frames"), std::string::npos) << e;
}

TEST(VideoBadInput, FrameListsWithMixedSizesOrTooFewFrames) {
  const std::vector<std::string> mixed = {kGolden + "/video_a_frames/frame_000.png", kGolden + "/img_256x256.png"};
  std::string e = error_of([&] {
    auto list = open_frame_list(mixed);
    const VideoProcessorConfig config;
    preprocess_video(*list, plan_video(list->info(), {}, config), config, qwen3vl::testing::test_pool());
  });
  EXPECT_NE(e.find("same size"), std::string::npos) << e;
  e = error_of([&] {
    auto list = open_frame_list({kGolden + "/video_a_frames/frame_000.png"});
    plan_video(list->info(), {}, VideoProcessorConfig{});
  });
  EXPECT_NE(e.find("at least 2 frames"), std::string::npos) << e;
  EXPECT_NE(error_of([] { open_frame_list({}); }).find("empty"), std::string::npos);
  // Sampling options do not apply to frame lists.
  e = error_of([&] {
    auto list = open_frame_list(mixed);
    FrameSamplingRequest r;
    r.fps = 2;
    plan_video(list->info(), r, VideoProcessorConfig{});
  });
  EXPECT_NE(e.find("frame list"), std::string::npos) << e;
}

TEST(VideoBadInput, TokenCostIsKnownBeforeDecoding) {
  // A plan from the header alone: 20 frames at 10 fps -> 4 sampled frames.
  // With the class-default budget (at least 131072 pixels over the clip)
  // 4x96x160 = 61440 is too small: beta = sqrt(131072/61440) = 1.4606,
  // ceil(96*beta/32) = 5 -> 160, ceil(160*beta/32) = 8 -> 256; grid
  // (2, 10, 16): 2 pairs of 5x8 = 40 merged tokens.
  auto source = open_video_file(kGolden + "/video_a.avi");
  const VideoPlan plan = plan_video(source->info(), {}, VideoProcessorConfig{});
  EXPECT_EQ(plan.resized, (ImageSize{160, 256}));
  EXPECT_EQ(plan.tokens_per_frame_pair(), 40);
  EXPECT_EQ(plan.tokens(), 80);
}

TEST(VideoEncodedClips, SeekingReadsTheSameFramesAsDecodingEverything) {
  // An inter-coded clip (MPEG-4 part 2, keyframe every 10 frames) in MP4.
  const std::string path = temp_path("gop10.mp4");
  VideoEncodeOptions opt;
  opt.codecs = {"mpeg4"};
  opt.fps = 25;
  opt.keyframe_interval = 10;
  write_video_file(path, 96, 64, 60, [](int i) { return synthetic_video_frame(96, 64, i, 25); }, opt);
  auto source = open_video_file(path);
  ASSERT_EQ(source->info().total_frames, 60);
  std::vector<int64_t> all(60);
  for (int i = 0; i < 60; ++i) all[i] = i;
  std::vector<RgbImage> sequential;
  source->read_frames(all, [&](size_t, const RgbImage& f) { sequential.push_back(f); });
  ASSERT_EQ(sequential.size(), 60u);
  const std::vector<int64_t> sparse = {0, 1, 25, 26, 47, 59};
  size_t n = 0;
  source->read_frames(sparse, [&](size_t k, const RgbImage& f) {
    EXPECT_EQ(f.pixels, sequential[sparse[k]].pixels) << "frame " << sparse[k];
    ++n;
  });
  EXPECT_EQ(n, sparse.size());
}

TEST(VideoEncodedClips, LosslessClipWithoutAFrameCountInTheHeader) {
  // Matroska stores no frame count: the reader counts packets. PNG frames are
  // lossless RGB, so decoding returns the very frames written.
  const std::string path = temp_path("lossless.mkv");
  VideoEncodeOptions opt;
  opt.codecs = {"png"};
  opt.fps = 12;
  write_video_file(path, 64, 32, 30, [](int i) { return synthetic_video_frame(64, 32, i, 12); }, opt);
  auto source = open_video_file(path);
  EXPECT_EQ(source->info().total_frames, 30);
  ASSERT_TRUE(source->info().fps.has_value());
  EXPECT_EQ(*source->info().fps, 12.0);
  const std::vector<int64_t> wanted = {0, 7, 14, 22, 29};  // the rule table's sampling of 30 frames at 12 fps
  source->read_frames(wanted, [&](size_t k, const RgbImage& f) {
    EXPECT_EQ(f.pixels, synthetic_video_frame(64, 32, static_cast<int>(wanted[k]), 12).pixels) << wanted[k];
  });
}
