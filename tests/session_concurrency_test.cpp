// One Model, several Sessions generating at once on their own threads: each
// conversation gets exactly the tokens and logits it gets alone. The model's
// weights are read-only and shared; each session has its own KV cache and
// scratch; the model's thread pool takes one loop at a time; an encoding
// cache shared by sessions is locked. Also built under ThreadSanitizer
// (target qwen3vl_tsan_session_tests, see CMakeLists.txt).
#include <gtest/gtest.h>

#include <thread>

#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;
const std::string kGolden = kFixture + "/golden";

Json user(const std::string& text, const std::vector<std::string>& images = {}) {
  Json parts = Json::array();
  for (const std::string& image : images) parts.push_back({{"type", "image"}, {"image", kGolden + "/" + image}});
  parts.push_back({{"type", "text"}, {"text", text}});
  return {{"role", "user"}, {"content", parts}};
}

// What one conversation produced: both turns' tokens, and the logits after
// the second turn's prefill.
struct Transcript {
  std::vector<int32_t> first, second;
  int64_t second_reused = 0;
  std::vector<float> logits;
  bool operator==(const Transcript&) const = default;
};

// Two turns: the second resends the first with the answer and a new question
// (so it reuses the session's cache), then its prefill logits are kept.
Transcript converse(const std::shared_ptr<Model>& model, const Json& opening, const SessionOptions& options) {
  Session session(model, options);
  GenerateOptions o;
  o.max_tokens = 6;
  o.sampling.temperature = 0.0f;
  Transcript t;
  Json conversation = Json::array({opening});
  const GenerationResult first = session.generate(conversation, o);
  t.first = first.output_ids;
  conversation.push_back({{"role", "assistant"}, {"content", first.text}});
  conversation.push_back(user("And then?"));
  const GenerationResult second = session.generate(conversation, o);
  t.second = second.output_ids;
  t.second_reused = second.reused_tokens;
  PreparedPrompt p = session.prepare(conversation, o);
  session.encode(p);
  session.prefill(p);
  t.logits.assign(session.logits().begin(), session.logits().end());
  return t;
}

}  // namespace

TEST(SessionConcurrency, SessionsOnThreadsGiveTheirResultsAlone) {
  LoadOptions lo;
  lo.threads = 2;
  const auto model = Model::load(kFixture, lo);
  const std::vector<Json> openings = {
      user("Give me a short introduction to large language models."),
      user("Describe this image.", {"img_400x300.png"}),
      user("What differs?", {"img_640x360.png", "img_240x520.jpg"}),
      user("Describe this image.", {"img_400x300.png"}),  // same image as #1: shared encoding cache
  };
  auto shared_cache = std::make_shared<EncodingCache>();
  auto options_for = [&](size_t i) {
    SessionOptions o;
    if (i % 2 == 1) o.encoding_cache = shared_cache;  // sessions 1 and 3 share one
    return o;
  };

  std::vector<Transcript> alone;
  for (size_t i = 0; i < openings.size(); ++i) alone.push_back(converse(model, openings[i], options_for(i)));
  for (const Transcript& t : alone) EXPECT_GT(t.second_reused, 0);
  shared_cache->clear();

  std::vector<Transcript> together(openings.size());
  std::vector<std::string> errors(openings.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < openings.size(); ++i)
    threads.emplace_back([&, i] {
      try {
        together[i] = converse(model, openings[i], options_for(i));
      } catch (const std::exception& e) {
        errors[i] = e.what();
      }
    });
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < openings.size(); ++i) {
    EXPECT_EQ(errors[i], "") << "conversation " << i;
    EXPECT_EQ(together[i].first, alone[i].first) << "conversation " << i;
    EXPECT_EQ(together[i].second, alone[i].second) << "conversation " << i;
    EXPECT_EQ(together[i].second_reused, alone[i].second_reused) << "conversation " << i;
    EXPECT_TRUE(together[i].logits == alone[i].logits) << "conversation " << i << ": logits differ";
  }
}
