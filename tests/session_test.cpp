// The library API over the whole pipeline: multi-turn conversations with
// images in several user turns, streaming, stop strings, context limits.
#include <gtest/gtest.h>

#include <algorithm>

#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;

static const std::string kFixture = QWEN3VL_FIXTURE_DIR;
static const std::string kGolden = kFixture + "/golden";

static std::shared_ptr<Model> fixture_model() {
  static std::shared_ptr<Model> m = Model::load(kFixture);
  return m;
}

TEST(Session, ImagesInSeveralUserTurnsExpandInOrder) {
  Session s(fixture_model());
  const Json messages = Json::parse(R"([
    {"role": "user", "content": [{"type": "image", "image": ")" + kGolden + R"(/img_400x300.png"},
                                 {"type": "text", "text": "What is this?"}]},
    {"role": "assistant", "content": "A picture."},
    {"role": "user", "content": [{"type": "text", "text": "And this one?"},
                                 {"type": "image_url", "image_url": {"url": ")" + kGolden + R"(/img_640x360.png"}}]}])");
  GenerateOptions o;
  o.max_tokens = 3;
  const GenerationResult r = s.generate(messages, o);
  const int image_pad = fixture_model()->config().image_token_id;
  // 400x300 -> 384x288 -> 12x9 merged tokens; 640x360 -> 640x352 -> 20x11.
  EXPECT_EQ(r.image_tokens, 108 + 220);
  EXPECT_EQ(std::count(r.prompt_ids.begin(), r.prompt_ids.end(), image_pad), 328);
  // Each block sits between <|vision_start|> and <|vision_end|>, in message order.
  std::vector<int> block_lengths;
  for (size_t i = 0; i < r.prompt_ids.size(); ++i) {
    if (r.prompt_ids[i] != fixture_model()->config().vision_start_token_id) continue;
    size_t j = i + 1;
    while (j < r.prompt_ids.size() && r.prompt_ids[j] == image_pad) ++j;
    EXPECT_EQ(r.prompt_ids[j], fixture_model()->config().vision_end_token_id);
    block_lengths.push_back(static_cast<int>(j - i - 1));
  }
  EXPECT_EQ(block_lengths, (std::vector<int>{108, 220}));
  EXPECT_EQ(r.output_ids.size(), 3u);
}

TEST(Session, StreamedPiecesConcatenateToTheText) {
  Session s(fixture_model());
  std::string streamed;
  GenerateOptions o;
  o.max_tokens = 12;
  const GenerationResult r = s.generate(Json::parse(R"([{"role":"user","content":"Give me a short introduction to large language models."}])"),
                                        o, [&](std::string_view piece) {
                                          streamed += piece;
                                          return true;
                                        });
  EXPECT_EQ(streamed, r.text);
  EXPECT_EQ(r.finish_reason, "length");
  // The callback can stop generation early.
  int pieces = 0;
  const GenerationResult early = s.generate(Json::parse(R"([{"role":"user","content":"Hi"}])"), o,
                                            [&](std::string_view) { return ++pieces < 3; });
  EXPECT_EQ(pieces, 3);
  EXPECT_LE(early.output_ids.size(), 4u);
}

TEST(Session, StopStringCutsTheAnswer) {
  Session s(fixture_model());
  GenerateOptions o;
  o.max_tokens = 12;
  const Json m = Json::parse(R"([{"role":"user","content":"Give me a short introduction to large language models."}])");
  const GenerationResult full = s.generate(m, o);
  ASSERT_GT(full.text.size(), 10u);
  // Stop on a piece from the middle of the greedy answer.
  const std::string stop = full.text.substr(full.text.size() / 2, 4);
  o.stop = {stop};
  const GenerationResult cut = s.generate(m, o);
  EXPECT_EQ(cut.finish_reason, "stop");
  EXPECT_EQ(cut.text, full.text.substr(0, full.text.find(stop)));
}

TEST(Session, PromptLongerThanContextIsRefused) {
  LoadOptions lo;
  lo.context_length = 32;
  Session s(Model::load(kFixture, lo));
  std::string text;
  for (int i = 0; i < 50; ++i) text += "word ";
  try {
    s.generate(Json::array({{{"role", "user"}, {"content", text}}}), {});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("context holds 32"), std::string::npos) << e.what();
  }
  // The session stays usable.
  GenerateOptions o;
  o.max_tokens = 2;
  EXPECT_EQ(s.generate(Json::parse(R"([{"role":"user","content":"Hi"}])"), o).output_ids.size(), 2u);
}

TEST(Session, GenerationStopsAtTheContextEnd) {
  LoadOptions lo;
  lo.context_length = 24;
  Session s(Model::load(kFixture, lo));
  GenerateOptions o;
  o.max_tokens = 100;
  const GenerationResult r = s.generate(Json::parse(R"([{"role":"user","content":"Give me a short introduction to large language models."}])"), o);
  EXPECT_EQ(r.prompt_ids.size() + r.output_ids.size(), 24u);
  EXPECT_EQ(r.finish_reason, "context_full");  // not "length": -n was 100
}
