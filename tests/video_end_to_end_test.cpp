// Video input end to end: every case of the video fixture through the
// command line (`dump` tensors and `run --json` ids against the reference's
// goldens, within the fixture README's tolerances), and the library's
// refusals of videos it cannot take, raised before any frame is decoded
// where the metadata already tells.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "cli_test_util.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/qwen3vl.h"
#include "server/api_error.h"
#include "server/image_sources.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_VIDEO_FIXTURE_DIR;
const std::string kGolden = kFixture + "/golden";

Json golden_json(const std::string& c) { return load_json_file(kGolden + "/" + c + ".json"); }

// The case's messages with media paths made absolute (they are relative to golden/).
Json absolute_messages(const std::string& c) {
  Json m = golden_json(c)["messages"];
  for (auto& msg : m) {
    if (!msg["content"].is_array()) continue;
    for (auto& part : msg["content"]) {
      if (part.contains("image")) part["image"] = kGolden + "/" + part["image"].get<std::string>();
      if (part.contains("video") && part["video"].is_string())
        part["video"] = kGolden + "/" + part["video"].get<std::string>();
      if (part.contains("video") && part["video"].is_array())
        for (auto& frame : part["video"]) frame = kGolden + "/" + frame.get<std::string>();
      // The processor's per-call kwargs become per-part options here.
    }
  }
  const Json kwargs = golden_json(c)["processor_kwargs"];
  if (kwargs.contains("fps"))
    for (auto& msg : m)
      if (msg["content"].is_array())
        for (auto& part : msg["content"])
          if (part.contains("video")) part["fps"] = kwargs["fps"];
  return m;
}

std::string write_messages(const std::string& c) {
  const std::string path = ::testing::TempDir() + "/" + c + ".video_messages.json";
  std::ofstream(path) << absolute_messages(c).dump();
  return path;
}

// vcase4 is the transformers >= 5.10 prompt form (outer wrapper kept).
std::string case_flags(const std::string& c) {
  return c == "vcase4_video_outer_wrapper_kept" ? " --video-outer-wrapper" : "";
}

std::vector<int64_t> ints(const TensorView& t) {
  std::vector<int64_t> v(static_cast<size_t>(t.numel()));
  std::memcpy(v.data(), t.data, v.size() * 8);
  return v;
}

float max_abs_diff(const SafetensorsFile& mine, const SafetensorsFile& gold, const std::string& name) {
  if (!mine.has(name)) {
    ADD_FAILURE() << "dump has no " << name;
    return 1e30f;
  }
  EXPECT_EQ(mine.get(name).shape, gold.get(name).shape) << name;
  const auto a = mine.get(name).to_f32(), b = gold.get(name).to_f32();
  if (a.size() != b.size()) return 1e30f;
  float m = 0;
  for (size_t i = 0; i < a.size(); ++i) m = std::max(m, std::abs(a[i] - b[i]));
  return m;
}

class VideoEndToEnd : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST_P(VideoEndToEnd, DumpMatchesTheReference) {
  const std::string c = GetParam();
  const std::string out = ::testing::TempDir() + "/" + c + ".dump.safetensors";
  const CliResult r =
      run_cli("dump -m " + kFixture + " --messages " + write_messages(c) + case_flags(c) + " -n 12 -o " + out);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const SafetensorsFile mine(out), gold(kGolden + "/" + c + ".safetensors");
  std::vector<std::string> exact = {"input_ids", "position_ids", "rope_deltas", "generated_ids"};
  if (gold.has("video_grid_thw")) exact.push_back("video_grid_thw");
  if (gold.has("image_grid_thw")) exact.push_back("image_grid_thw");
  for (const std::string& name : exact) {
    ASSERT_TRUE(mine.has(name)) << name;
    EXPECT_EQ(mine.get(name).shape, gold.get(name).shape) << name;
    EXPECT_EQ(ints(mine.get(name)), ints(gold.get(name))) << name;
  }
  EXPECT_LE(max_abs_diff(mine, gold, "logits_last"), 1e-3f);
  if (gold.has("logits_first256")) EXPECT_LE(max_abs_diff(mine, gold, "logits_first256"), 1e-3f);
  if (!gold.has("video_embeds")) return;  // vcase4 has text-side tensors only
  EXPECT_LE(max_abs_diff(mine, gold, "pixel_values_videos"), 1e-6f);
  for (const char* name : {"video_embeds", "video_deepstack_0", "video_deepstack_1", "deepstack_0", "deepstack_1",
                           "video_vision_patch_embed", "video_vision_pos_embeds"})
    EXPECT_LE(max_abs_diff(mine, gold, name), 1e-4f) << name;
  if (gold.has("image_embeds")) {
    for (const char* name : {"image_embeds", "image_deepstack_0", "image_deepstack_1"})
      EXPECT_LE(max_abs_diff(mine, gold, name), 1e-4f) << name;
  }
}

TEST_P(VideoEndToEnd, RunJsonGivesTheReferenceIds) {
  const std::string c = GetParam();
  const Json out = expect_run_matches_golden(kFixture, write_messages(c), golden_json(c), c, case_flags(c));
  if (!out.is_null()) EXPECT_TRUE(out["timings"].contains("video_decode_ms"));
}

INSTANTIATE_TEST_SUITE_P(Cases, VideoEndToEnd,
                         ::testing::Values("vcase1_video", "vcase2_image_and_video", "vcase3_frame_list",
                                           "vcase4_video_outer_wrapper_kept"));

TEST(VideoCli, VideoFlagPlacesTheVideoBeforeThePrompt) {
  // vcase1's message is exactly [video, text] in one user turn.
  const Json g = golden_json("vcase1_video");
  const std::string text = g["messages"][0]["content"][1]["text"];
  const CliResult r =
      run_cli("run -m " + kFixture + " --video " + kGolden + "/video_a.avi -p '" + text + "' -n 12 --json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json out = parse_json(r.out, "run --json");
  EXPECT_EQ(out["prompt_ids"], g["input_ids"]);
  EXPECT_EQ(out["output_ids"], g["generated_ids"]);
  // --video-fps 4 is vcase2's sampling: 8 frames, 4 frame pairs of 15 tokens.
  const CliResult fps4 = run_cli("run -m " + kFixture + " --video " + kGolden + "/video_a.avi -p '" + text +
                                 "' --video-fps 4 -n 1 --json");
  ASSERT_EQ(fps4.exit_code, 0) << fps4.err;
  const Json prompt = parse_json(fps4.out, "run --json")["prompt_ids"];
  const int video_pad = load_json_file(kFixture + "/config.json")["video_token_id"];
  EXPECT_EQ(std::count(prompt.begin(), prompt.end(), Json(video_pad)), 4 * 15);
}

TEST(VideoCli, BadVideoOptionsAreClearErrors) {
  const std::string clip = " --video " + kGolden + "/video_a.avi -p hi -n 1";
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"run -m " + kFixture + clip + " --video-fps 2 --video-frames 4", "mutually exclusive"},
      {"run -m " + kFixture + clip + " --video-fps 0", "--video-fps must be positive"},
      {"run -m " + kFixture + " --video /nonexistent/clip.mp4 -p hi", "video 1"},
      {"run -m " + kFixture + clip + " --ctx 48", "context"},
  };
  for (const auto& [args, expected] : cases) {
    const CliResult r = run_cli(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.err.find(expected), std::string::npos) << args << "\n" << r.err;
  }
}

namespace {

std::shared_ptr<Model> video_model(int64_t context = 0) {
  LoadOptions o;
  if (context > 0) o.context_length = context;
  return Model::load(kFixture, o);
}

std::string error_of(Session& s, const Json& messages, const GenerateOptions& o = {}) {
  try {
    s.prepare(messages, o);
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

Json video_message(const Json& part) {
  Json p = part;
  p["type"] = "video";
  return Json::array({{{"role", "user"}, {"content", Json::array({p, {{"type", "text"}, {"text", "what?"}}})}}});
}

// A copy of the fixture clip whose frame data is garbage but whose header is intact.
std::string corrupt_clip() {
  std::ifstream in(kGolden + "/video_a.avi", std::ios::binary);
  std::vector<char> b(std::istreambuf_iterator<char>(in), {});
  const std::string tag = "movi";
  const size_t movi = std::string(b.begin(), b.end()).find(tag);
  for (size_t i = movi + 64; i < b.size(); ++i) b[i] = static_cast<char>(i * 131);
  const std::string path = ::testing::TempDir() + "/qwen3vl_video_e2e_corrupt.avi";
  std::ofstream(path, std::ios::binary).write(b.data(), static_cast<std::streamsize>(b.size()));
  return path;
}

}  // namespace

TEST(VideoSession, ClipTooLongForTheContextIsRefusedBeforeDecoding) {
  // The corrupt clip's header still says 20 frames at 10 fps: 4 sampled
  // frames, 30 tokens. A context of 24 refuses it from that alone, so the
  // damaged frames are never read; a large context reaches them and fails there.
  const std::string clip = corrupt_clip();
  Session small(video_model(24));
  const std::string too_long = error_of(small, video_message({{"video", clip}}));
  EXPECT_NE(too_long.find("video 1"), std::string::npos) << too_long;
  EXPECT_NE(too_long.find("30 tokens"), std::string::npos) << too_long;
  EXPECT_NE(too_long.find("context of 24"), std::string::npos) << too_long;
  Session large(video_model());
  const std::string corrupt = error_of(large, video_message({{"video", clip}}));
  EXPECT_NE(corrupt.find("video 1"), std::string::npos) << corrupt;
  EXPECT_EQ(corrupt.find("context"), std::string::npos) << corrupt;
  // The session is still usable.
  GenerateOptions o;
  o.max_tokens = 2;
  EXPECT_EQ(large.generate(video_message({{"video", kGolden + "/video_a.avi"}}), o).output_ids.size(), 2u);
}

TEST(VideoSession, PerPartOptionsWinAndFrameListsAreUsedAsGiven) {
  const auto model = video_model();
  Session s(model);
  const std::string clip = kGolden + "/video_a.avi";
  const int video_pad = model->config().video_token_id;
  auto pads = [&](const Json& part, const GenerateOptions& o) {
    const PreparedPrompt p = s.prepare(video_message(part), o);
    const std::vector<int32_t>& ids = p.ids();
    return std::count(ids.begin(), ids.end(), video_pad);
  };
  GenerateOptions request_fps4;
  request_fps4.video.fps = 4;
  EXPECT_EQ(pads({{"video", clip}}, {}), 2 * 15);                              // default fps 2: 4 frames
  EXPECT_EQ(pads({{"video", clip}}, request_fps4), 4 * 15);                    // request-wide fps 4: 8 frames
  EXPECT_EQ(pads({{"video", clip}, {"num_frames", 6}}, request_fps4), 3 * 15);  // the part's own count wins
  // A frame list ignores the request-wide rate (it has no time base) ...
  Json frames = Json::array();
  for (int i = 0; i < 6; ++i) frames.push_back(kGolden + "/video_a_frames/frame_00" + std::to_string(i) + ".png");
  EXPECT_EQ(pads({{"video", frames}}, request_fps4), 3 * 15);
  // ... but its own "fps" is a clear error, as are both options on one part.
  EXPECT_NE(error_of(s, video_message({{"video", frames}, {"fps", 2}})).find("frame list"), std::string::npos);
  EXPECT_NE(error_of(s, video_message({{"video", clip}, {"fps", 2}, {"num_frames", 4}})).find("mutually exclusive"),
            std::string::npos);
}

TEST(VideoChat, SlashVideoAttachesAVideoToTheNextMessage) {
  // vcase1 as a chat: /video, then the question; the answer is the reference's.
  const Json g = golden_json("vcase1_video");
  const std::string saved = ::testing::TempDir() + "/qwen3vl_video_chat_saved.json";
  const CliResult r = run_cli("chat -m " + kFixture + " -n 12 --temp 0 -q",
                              "/video " + kGolden + "/video_a.avi\n" +
                                  g["messages"][0]["content"][1]["text"].get<std::string>() + "\n/save " + saved + "\n");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, g["generated_text_skip_special"].get<std::string>() + "\n");
  const Json messages = load_json_file(saved);
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0]["content"][0], Json({{"type", "video"}, {"video", kGolden + "/video_a.avi"}}));
  // A missing file is named.
  const CliResult missing = run_cli("chat -m " + kFixture + " -n 1 -q", "/video /no/such/clip.mp4\n");
  EXPECT_NE(missing.err.find("no video file at /no/such/clip.mp4"), std::string::npos) << missing.err;
}

TEST(VideoServer, VideoSourcesFollowTheImageConfinementRules) {
  // The server rewrites video references to data: URIs under the image rules:
  // local files only inside --allow-local-images, no URLs unless allowed, the
  // same byte limit; frame lists (many files) are refused.
  std::ifstream in(kGolden + "/video_a.avi", std::ios::binary);
  const std::vector<uint8_t> clip(std::istreambuf_iterator<char>(in), {});
  const std::string uri = make_data_uri("video/octet-stream", clip.data(), clip.size());
  auto no_fetch = [](const std::string& url) -> std::vector<uint8_t> {
    ADD_FAILURE() << "fetched " << url;
    return {};
  };
  auto with_video = [](const Json& video_url) {
    Json part = {{"type", "video_url"}, {"video_url", {{"url", video_url}}}};
    return Json::array({{{"role", "user"}, {"content", Json::array({part, {{"type", "text"}, {"text", "What is moving in this video?"}}})}}});
  };
  auto code_of = [&](Json messages, const server::ImageSourcePolicy& policy) -> std::string {
    try {
      server::resolve_image_sources(messages, policy, no_fetch);
    } catch (const server::ApiError& e) {
      return e.code();
    }
    return "(accepted)";
  };
  server::ImageSourcePolicy closed;
  EXPECT_EQ(code_of(with_video(kGolden + "/video_a.avi"), closed), "image_source_not_allowed");
  EXPECT_EQ(code_of(with_video("https://example.com/v.mp4"), closed), "image_source_not_allowed");
  Json frames = Json::array({{{"role", "user"}, {"content", Json::array({{{"type", "video"},
                                                                          {"video", Json::array({"a.png", "b.png"})}}})}}});
  EXPECT_EQ(code_of(frames, closed), "image_source_not_allowed");
  server::ImageSourcePolicy small = closed;
  small.max_image_bytes = 1000;
  EXPECT_EQ(code_of(with_video(uri), small), "image_too_large");

  server::ImageSourcePolicy local = closed;
  local.local_root = kGolden;
  Json m = with_video("video_a.avi");
  EXPECT_EQ(server::resolve_image_sources(m, local, no_fetch), 1);
  EXPECT_EQ(m[0]["content"][0]["video_url"]["url"], uri);
  local.local_root = kGolden + "/video_a_frames";
  EXPECT_EQ(code_of(with_video(kGolden + "/video_a.avi"), local), "image_source_not_allowed");

  // The rewritten request answers as vcase1 does.
  Session s(video_model());
  GenerateOptions o;
  o.max_tokens = 12;
  const GenerationResult r = s.generate(m, o);
  const Json g = golden_json("vcase1_video");
  EXPECT_EQ(Json(r.prompt_ids), g["input_ids"]);
  EXPECT_EQ(Json(r.output_ids), g["generated_ids"]);
}
