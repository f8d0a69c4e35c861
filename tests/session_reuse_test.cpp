// Multi-turn reuse: a Session keeps its KV cache between calls; a next turn
// that resends the whole conversation computes only the rows after the
// longest cached prefix and does not re-encode images it has seen. The
// answers (greedy ids) and the logits must be those of a fresh session.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kGolden = kFixture + "/golden";

std::shared_ptr<Model> fixture_model() {
  static std::shared_ptr<Model> m = Model::load(kFixture);
  return m;
}

GenerateOptions greedy(int max_tokens) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.sampling.temperature = 0.0f;
  return o;
}

Json user_text(const std::string& text) { return {{"role", "user"}, {"content", text}}; }
Json user_image(const std::string& image, const std::string& text) {
  return {{"role", "user"},
          {"content", Json::array({{{"type", "image"}, {"image", kGolden + "/" + image}}, {{"type", "text"}, {"text", text}}})}};
}
Json assistant(const std::string& text) { return {{"role", "assistant"}, {"content", text}}; }

// What the cache holds after a generate() call: the prompt and every answer
// token except the last sampled one (never fed back), unless generation
// ended on EOS (not part of output_ids, and every output token was fed).
std::vector<int32_t> cache_after(const GenerationResult& r) {
  std::vector<int32_t> rows = r.prompt_ids;
  size_t fed = r.output_ids.size();
  if (r.finish_reason == "length" && fed > 0) --fed;
  rows.insert(rows.end(), r.output_ids.begin(), r.output_ids.begin() + fed);
  return rows;
}

// Rows a prompt can reuse from a cache holding `cached`, by hand: the
// longest common prefix of token ids (all media here are the same images in
// the same places), leaving the last prompt row to compute.
int64_t expected_reuse(const std::vector<int32_t>& cached, const std::vector<int32_t>& prompt) {
  size_t n = 0;
  while (n < cached.size() && n + 1 < prompt.size() && cached[n] == prompt[n]) ++n;
  return static_cast<int64_t>(n);
}

float max_abs_diff(std::span<const float> a, std::span<const float> b) {
  EXPECT_EQ(a.size(), b.size());
  float m = 0;
  for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) m = std::max(m, std::fabs(a[i] - b[i]));
  return m;
}

size_t argmax(std::span<const float> v) { return std::max_element(v.begin(), v.end()) - v.begin(); }

// Runs `messages` through the stages on `session` and on a fresh session,
// and checks the next-token logits agree.
void expect_same_logits_as_fresh(Session& session, const Json& messages) {
  const GenerateOptions o = greedy(1);
  PreparedPrompt p = session.prepare(messages, o);
  session.encode(p);
  session.prefill(p);
  const std::vector<float> reused(session.logits().begin(), session.logits().end());
  Session fresh(fixture_model());
  PreparedPrompt q = fresh.prepare(messages, o);
  fresh.encode(q);
  const PrefillStats all = fresh.prefill(q);
  EXPECT_EQ(all.reused_tokens, 0);
  EXPECT_LE(max_abs_diff(reused, fresh.logits()), 1e-4f);
  EXPECT_EQ(argmax(reused), argmax(fresh.logits()));
}

}  // namespace

TEST(SessionReuse, SecondTextTurnPrefillsOnlyNewTokens) {
  Session s(fixture_model());
  Json conversation = Json::array({user_text("Give me a short introduction to large language models.")});
  const GenerationResult first = s.generate(conversation, greedy(8));
  EXPECT_EQ(first.reused_tokens, 0);
  EXPECT_EQ(first.prefilled_tokens, static_cast<int64_t>(first.prompt_ids.size()));

  conversation.push_back(assistant(first.text));
  conversation.push_back(user_text("Shorter, please."));
  const GenerationResult second = s.generate(conversation, greedy(8));
  const int64_t want = expected_reuse(cache_after(first), second.prompt_ids);
  // The whole first prompt is a prefix of the second.
  EXPECT_GE(want, static_cast<int64_t>(first.prompt_ids.size()));
  EXPECT_EQ(second.reused_tokens, want);
  EXPECT_EQ(second.prefilled_tokens, static_cast<int64_t>(second.prompt_ids.size()) - want);

  Session fresh(fixture_model());
  const GenerationResult again = fresh.generate(conversation, greedy(8));
  EXPECT_EQ(again.reused_tokens, 0);
  EXPECT_EQ(again.prompt_ids, second.prompt_ids);
  EXPECT_EQ(again.output_ids, second.output_ids);

  // The same conversation once more: everything but the last row is reused.
  const GenerationResult third = s.generate(conversation, greedy(8));
  EXPECT_EQ(third.reused_tokens,
            expected_reuse(cache_after(second), third.prompt_ids));
  EXPECT_EQ(third.output_ids, second.output_ids);
}

TEST(SessionReuse, ReusedPrefixGivesTheLogitsOfAFreshSession) {
  Session s(fixture_model());
  Json conversation = Json::array({user_text("Hi there.")});
  const GenerationResult first = s.generate(conversation, greedy(5));
  conversation.push_back(assistant(first.text));
  conversation.push_back(user_text("Tell me more."));
  expect_same_logits_as_fresh(s, conversation);
}

TEST(SessionReuse, ImageTurnIsNotEncodedAgain) {
  Session s(fixture_model());
  Json conversation = Json::array({user_image("img_400x300.png", "Describe this image.")});
  const GenerationResult first = s.generate(conversation, greedy(6));
  EXPECT_EQ(first.encoded_media, 1);
  EXPECT_EQ(first.cached_media, 0);
  EXPECT_EQ(first.image_tokens, 108);

  conversation.push_back(assistant(first.text));
  conversation.push_back(user_text("What colour dominates?"));
  const GenerationResult second = s.generate(conversation, greedy(6));
  // The image lies wholly inside the reused prefix: no encoder, no cache lookup.
  EXPECT_EQ(second.encoded_media, 0);
  EXPECT_EQ(second.cached_media, 0);
  EXPECT_EQ(second.reused_tokens, expected_reuse(cache_after(first), second.prompt_ids));
  EXPECT_GE(second.reused_tokens, static_cast<int64_t>(first.prompt_ids.size()));

  Session fresh(fixture_model());
  const GenerationResult want = fresh.generate(conversation, greedy(6));
  EXPECT_EQ(want.output_ids, second.output_ids);
  expect_same_logits_as_fresh(s, conversation);
}

TEST(SessionReuse, EditedHistoryBeforeAnImageTakesItsFeaturesFromTheEncodingCache) {
  Session s(fixture_model());
  Json conversation = Json::array({user_image("img_400x300.png", "Describe this image.")});
  s.generate(conversation, greedy(4));
  // A system message in front: the prefix breaks before the image, whose
  // features come from the session's encoding cache instead of the encoder.
  Json edited = Json::array({{{"role", "system"}, {"content", "Be brief."}}, conversation[0]});
  const GenerationResult r = s.generate(edited, greedy(4));
  EXPECT_EQ(r.encoded_media, 0);
  EXPECT_EQ(r.cached_media, 1);
  EXPECT_LT(r.reused_tokens, 5);  // only "<|im_start|>" could match before the system text

  Session fresh(fixture_model());
  EXPECT_EQ(fresh.generate(edited, greedy(4)).output_ids, r.output_ids);
}

TEST(SessionReuse, ADifferentImageInTheSamePlaceIsNotReused) {
  Session s(fixture_model());
  const GenerationResult a = s.generate(Json::array({user_image("img_400x300.png", "Describe this image.")}), greedy(3));
  // Another image in the same place: its pads have the same token id as the
  // first image's, so only the medium tells the rows apart.
  const GenerationResult b = s.generate(Json::array({user_image("img_640x360.png", "Describe this image.")}), greedy(3));
  EXPECT_EQ(b.encoded_media, 1);
  // The rows before the image are shared; the image rows are not.
  int64_t first_pad = 0;
  while (a.prompt_ids[first_pad] != fixture_model()->config().image_token_id) ++first_pad;
  EXPECT_EQ(b.reused_tokens, first_pad);
}

TEST(SessionReuse, SharedEncodingCacheServesAnotherSession) {
  auto cache = std::make_shared<EncodingCache>();
  SessionOptions options;
  options.encoding_cache = cache;
  const Json messages = Json::array({user_image("img_400x300.png", "Describe this image.")});
  Session a(fixture_model(), options), b(fixture_model(), options);
  const GenerationResult ra = a.generate(messages, greedy(4));
  const GenerationResult rb = b.generate(messages, greedy(4));
  EXPECT_EQ(ra.encoded_media, 1);
  EXPECT_EQ(rb.encoded_media, 0);
  EXPECT_EQ(rb.cached_media, 1);
  EXPECT_EQ(rb.reused_tokens, 0);  // b's own KV cache was empty
  EXPECT_EQ(ra.output_ids, rb.output_ids);
  EXPECT_EQ(cache->entries(), 1u);
  EXPECT_EQ(cache->hits(), 1u);
  // 108 tokens x 48 wide x (embeddings + 2 DeepStack levels) floats.
  EXPECT_EQ(cache->bytes(), size_t(108) * 48 * 3 * 4);
}

TEST(SessionReuse, StagesReportWhatTheyDid) {
  Session s(fixture_model());
  const Json messages = Json::array({user_image("img_400x300.png", "Describe this image.")});
  PreparedPrompt p = s.prepare(messages, greedy(1));
  ASSERT_EQ(p.media_count(), 1u);
  const MediaInfo info = p.media(0);
  EXPECT_EQ(info.kind, "image");
  EXPECT_EQ(info.grid_t, 1);
  EXPECT_EQ(info.grid_h, 18);  // 400x300 -> 384x288 -> 18 x 24 patches
  EXPECT_EQ(info.grid_w, 24);
  EXPECT_EQ(info.tokens, 108);
  EXPECT_EQ(info.content_hash.size(), 32u);
  EXPECT_FALSE(info.encoded);
  EXPECT_EQ(s.cached_tokens(), 0);
  const EncodeStats e = s.encode(p);
  EXPECT_EQ(e.encoded_media, 1);
  EXPECT_TRUE(p.media(0).encoded);
  const PrefillStats f = s.prefill(p);
  EXPECT_EQ(f.reused_tokens, 0);
  EXPECT_EQ(f.prefilled_tokens, static_cast<int64_t>(p.ids().size()));
  EXPECT_EQ(s.cached_tokens(), static_cast<int64_t>(p.ids().size()));
  const int32_t next = static_cast<int32_t>(argmax(s.logits()));
  s.decode_step(next);
  EXPECT_EQ(s.cached_tokens(), static_cast<int64_t>(p.ids().size()) + 1);
  s.reset();
  EXPECT_EQ(s.cached_tokens(), 0);
  EXPECT_THROW(s.decode_step(next), Error);
}
