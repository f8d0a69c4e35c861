// The model layer on its own: placeholder expansion and positions for
// images and videos (hand-derived), and the whole forward of golden case 2
// (vision tower -> layout -> prefill) against the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/qwen3vl_model.h"
#include "test_pool.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

struct Fixture {
  ModelConfig config = load_model_config(kFixture + "/config.json");
  Checkpoint checkpoint{kFixture};
  Qwen3VLModel model{config, checkpoint};
  ThreadPool& pool = qwen3vl::testing::test_pool();
};

Fixture& fixture() {
  static Fixture f;
  return f;
}

std::vector<int64_t> ints(const TensorView& t) {
  const auto* p = static_cast<const int64_t*>(t.data);
  return std::vector<int64_t>(p, p + t.numel());
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

}  // namespace

TEST(Qwen3VLModel, ExpandsImageAndVideoPlaceholdersInPromptOrder) {
  const Qwen3VLModel& m = fixture().model;
  const ModelConfig& c = fixture().config;
  const int32_t vs = c.vision_start_token_id, ve = c.vision_end_token_id;
  const int32_t img = c.image_token_id, vid = c.video_token_id;
  // text, image (1,4,6): 6 tokens, text, video (2,4,4): 2 frame blocks of 4
  // tokens, each framed by its own timestamp text (token 12), text.
  const std::vector<int32_t> ids = {1, 2, vs, img, ve, 3, 12, vs, vid, ve, 12, vs, vid, ve, 4};
  const std::vector<MediaGrid> media = {{MediaKind::Image, {1, 4, 6}}, {MediaKind::Video, {2, 4, 4}}};
  const PromptLayout p = m.layout_prompt(ids, media);
  ASSERT_EQ(p.length(), 15 - 3 + 6 + 4 + 4);
  ASSERT_EQ(p.media.size(), 2u);
  EXPECT_EQ(p.media[0].first_visual, 0);
  EXPECT_EQ(p.media[0].tokens, 6);
  EXPECT_EQ(p.media[1].first_visual, 6);
  EXPECT_EQ(p.media[1].tokens, 8);
  const std::vector<int32_t> visual = {3, 4, 5, 6, 7, 8, 13, 14, 15, 16, 20, 21, 22, 23};
  EXPECT_EQ(p.visual_rows, visual);
  for (int32_t r = 0; r < p.length(); ++r) {
    const bool in_image = r >= 3 && r <= 8, in_video = (r >= 13 && r <= 16) || (r >= 20 && r <= 23);
    EXPECT_EQ(p.row_medium[r], in_image ? 0 : in_video ? 1 : -1) << r;
  }
  // Positions, by hand: text counts up; the image (merged 2 x 3) starts at 3;
  // text resumes at 1 + the largest position used; each video frame block
  // restarts its temporal index.
  auto at = [&](int r) { return std::array<int32_t, 3>{p.positions[0][r], p.positions[1][r], p.positions[2][r]}; };
  EXPECT_EQ(at(2), (std::array<int32_t, 3>{2, 2, 2}));
  EXPECT_EQ(at(3), (std::array<int32_t, 3>{3, 3, 3}));
  EXPECT_EQ(at(8), (std::array<int32_t, 3>{3, 4, 5}));
  EXPECT_EQ(at(9), (std::array<int32_t, 3>{6, 6, 6}));    // vision_end
  EXPECT_EQ(at(13), (std::array<int32_t, 3>{10, 10, 10}));  // first frame: 3 text rows after 6
  EXPECT_EQ(at(16), (std::array<int32_t, 3>{10, 11, 11}));
  EXPECT_EQ(at(17), (std::array<int32_t, 3>{12, 12, 12}));
  EXPECT_EQ(at(20), (std::array<int32_t, 3>{15, 15, 15}));
  EXPECT_EQ(at(23), (std::array<int32_t, 3>{15, 16, 16}));
  EXPECT_EQ(at(25), (std::array<int32_t, 3>{18, 18, 18}));
  EXPECT_EQ(p.rope_delta, 19 - 26);
  // A prefill from row 10 needs only the video.
  EXPECT_EQ(p.media_needed_from(10), (std::vector<bool>{false, true}));
  EXPECT_EQ(p.media_needed_from(8), (std::vector<bool>{true, true}));
}

TEST(Qwen3VLModel, PlaceholdersAndMediaMustAgree) {
  const Qwen3VLModel& m = fixture().model;
  const ModelConfig& c = fixture().config;
  const std::vector<int32_t> one_image = {1, c.image_token_id, 2};
  const std::vector<int32_t> one_video_pad = {1, c.video_token_id, 2};
  auto message = [&](std::span<const int32_t> ids, std::vector<MediaGrid> media) {
    try {
      m.layout_prompt(ids, media);
    } catch (const Error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message(one_image, {}).find("1 <|image_pad|> tokens but 0 images"), std::string::npos);
  EXPECT_NE(message(one_video_pad, {{MediaKind::Video, {2, 2, 2}}}).find("1 <|video_pad|> tokens but the 1 videos given need 2"),
            std::string::npos);
  EXPECT_NE(message(one_image, {{MediaKind::Image, {1, 2, 2}}, {MediaKind::Image, {1, 2, 2}}}).find("but 2 images"),
            std::string::npos);
  // Counts agree, order does not: a video where the prompt has the image.
  const std::vector<int32_t> image_then_video = {c.image_token_id, 5, c.video_token_id};
  EXPECT_NE(message(image_then_video, {{MediaKind::Video, {1, 2, 2}}, {MediaKind::Image, {1, 2, 2}}})
                .find("medium 1 is a video but the prompt has <|image_pad|>"),
            std::string::npos);
  EXPECT_NE(message(one_image, {{MediaKind::Image, {1, 3, 2}}}).find("multiples of the merge size"),
            std::string::npos);
}

// Golden case 2 through the model layer alone: pixel values -> encode_media
// -> layout of the unexpanded ids -> prefill, against the reference; then a
// prefill that reuses a prefix of the cache gives the same logits.
TEST(Qwen3VLModel, GoldenImageCaseEndToEnd) {
  Fixture& f = fixture();
  SafetensorsFile golden(kFixture + "/golden/case2_one_image.safetensors");
  const Json meta = load_json_file(kFixture + "/golden/case2_one_image.json");
  const std::vector<int64_t> thw = ints(golden.get("image_grid_thw"));
  const std::vector<float> pixel_values = golden.get("pixel_values").to_f32();
  const MediaPixels pixels{MediaKind::Image, {thw[0], thw[1], thw[2]}, pixel_values};

  std::map<std::string, std::vector<float>> captured;
  std::map<std::string, std::vector<int64_t>> captured_ints;
  TensorSink sink;
  sink.f32 = [&](const std::string& name, const std::vector<int64_t>& shape, const float* data) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    captured[name].assign(data, data + n);
  };
  sink.i64 = [&](const std::string& name, const std::vector<int64_t>& shape, const int64_t* data) {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    captured_ints[name].assign(data, data + n);
  };
  const ForwardContext capturing{f.pool, &sink};
  const auto encodings = f.model.encode_media({&pixels, 1}, capturing);
  ASSERT_EQ(encodings.size(), 1u);
  EXPECT_LE(max_abs_diff(encodings[0]->embeds, golden.get("image_embeds").to_f32()), 1e-4f);
  EXPECT_LE(max_abs_diff(captured["image_embeds"], golden.get("image_embeds").to_f32()), 1e-4f);
  EXPECT_LE(max_abs_diff(captured["vision_patch_embed"], golden.get("vision_patch_embed").to_f32()), 1e-4f);
  EXPECT_EQ(captured_ints["image_grid_thw"], thw);

  const std::vector<int32_t> unexpanded = meta["input_ids_before_image_pad_expansion"].get<std::vector<int32_t>>();
  const std::vector<MediaGrid> grids = {{MediaKind::Image, pixels.grid}};
  const PromptLayout layout = f.model.layout_prompt(unexpanded, grids);
  const std::vector<int64_t> want_ids = ints(golden.get("input_ids"));
  EXPECT_EQ(std::vector<int64_t>(layout.ids.begin(), layout.ids.end()), want_ids);
  EXPECT_EQ(layout.rope_delta, ints(golden.get("rope_deltas"))[0]);

  KVCache cache = f.model.make_cache(256, KVCacheType::F32);
  DecoderWorkspace ws;
  const auto logits = f.model.prefill(layout, encodings, 0, cache, ws, capturing);
  const std::vector<float> full(logits.begin(), logits.end());
  EXPECT_LE(max_abs_diff(full, golden.get("logits_last").to_f32()), 1e-3f);
  EXPECT_EQ(captured_ints["position_ids"], ints(golden.get("position_ids")));
  EXPECT_EQ(captured_ints["input_ids"], want_ids);
  for (const char* name : {"deepstack_0", "deepstack_1"})
    EXPECT_LE(max_abs_diff(captured[name], golden.get(name).to_f32()), 1e-4f) << name;
  EXPECT_LE(max_abs_diff(captured["logits_first256"], golden.get("logits_first256").to_f32()), 1e-3f);

  // Keep the rows before the middle of the image and recompute the rest in
  // chunks of 7 rows: the image's encoding is still needed.
  const int64_t keep = layout.visual_rows[layout.visual_rows.size() / 2];
  cache.truncate(keep);
  const auto again = f.model.prefill(layout, encodings, keep, cache, ws, ForwardContext{f.pool}, {7});
  EXPECT_LE(max_abs_diff(again, full), 1e-4f);
  // Past the image, its encoding is no longer needed.
  const int64_t after = layout.visual_rows.back() + 1;
  cache.truncate(after);
  const std::vector<std::shared_ptr<const MediaEncoding>> none(1);
  const auto text_only = f.model.prefill(layout, none, after, cache, ws, ForwardContext{f.pool});
  EXPECT_LE(max_abs_diff(text_only, full), 1e-4f);
  cache.truncate(keep);
  EXPECT_THROW(f.model.prefill(layout, none, keep, cache, ws, ForwardContext{f.pool}), Error);

  // Greedy decode steps from the prefilled cache reproduce the golden answer.
  cache.truncate(0);
  auto next = f.model.prefill(layout, encodings, 0, cache, ws, ForwardContext{f.pool});
  std::vector<int32_t> generated;
  const std::vector<int64_t> want_generated = ints(golden.get("generated_ids"));
  while (generated.size() < want_generated.size()) {
    const int32_t token = static_cast<int32_t>(std::max_element(next.begin(), next.end()) - next.begin());
    generated.push_back(token);
    next = f.model.decode_step(token, layout.rope_delta, cache, ws, ForwardContext{f.pool});
  }
  EXPECT_EQ(std::vector<int64_t>(generated.begin(), generated.end()), want_generated);
}
