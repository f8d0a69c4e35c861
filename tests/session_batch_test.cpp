// Continuous batching through the public API: sessions stepped together
// (Session::decode_together + Generation) answer exactly as each does alone
// with generate(), greedy and sampled, with an image, while they join at
// different steps and finish at different lengths; a bad batch changes no
// session; a prompt prefilled in parts (prefill_part) is independent of
// what runs between its parts.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "qwen3vl/qwen3vl.h"

using namespace qwen3vl;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::shared_ptr<Model> fixture_model() {
  static std::shared_ptr<Model> m = Model::load(kFixture);
  return m;
}

Json user_text(const std::string& text) {
  return Json::array({{{"role", "user"}, {"content", text}}});
}

struct Request {
  Json messages;
  GenerateOptions options;
  int joins_at = 0;  // batch step before which it is prefilled
};

std::vector<Request> requests() {
  std::vector<Request> r(4);
  r[0].messages = user_text("Describe a quiet harbour at dawn.");
  r[0].options.max_tokens = 9;
  r[0].options.sampling.temperature = 0.0f;
  r[1].messages = user_text("Hi");
  r[1].options.max_tokens = 4;
  r[1].options.sampling.temperature = 0.0f;
  r[2].messages = user_text("Write three words about snow.");
  r[2].options.max_tokens = 7;
  r[2].options.sampling.temperature = 0.9f;
  r[2].options.sampling.seed = 77;
  r[2].joins_at = 2;
  r[3].messages = Json::array(
      {{{"role", "user"},
        {"content", Json::array({{{"type", "image"}, {"image", kFixture + "/golden/img_400x300.png"}},
                                 {{"type", "text"}, {"text", "What is here?"}}})}}});
  r[3].options.max_tokens = 6;
  r[3].options.sampling.temperature = 0.0f;
  r[3].joins_at = 3;
  return r;
}

TEST(SessionBatch, SessionsDecodedTogetherAnswerAsEachAlone) {
  const std::vector<Request> reqs = requests();
  std::vector<GenerationResult> alone;
  for (const Request& r : reqs) {
    Session s(fixture_model());
    alone.push_back(s.generate(r.messages, r.options));
  }

  struct Running {
    std::unique_ptr<Session> session;
    PreparedPrompt prompt;
    std::unique_ptr<Generation> generation;
    std::string streamed;
    std::optional<int32_t> next;
    bool finished = false;
    GenerationResult result;
  };
  std::vector<Running> run(reqs.size());
  int max_batch = 0;
  for (int step = 0; step < 64; ++step) {
    for (size_t i = 0; i < reqs.size(); ++i) {
      if (reqs[i].joins_at != step) continue;
      Running& r = run[i];
      r.session = std::make_unique<Session>(fixture_model());
      r.prompt = r.session->prepare(reqs[i].messages, reqs[i].options);
      r.session->encode(r.prompt);
      r.session->prefill(r.prompt);
      r.generation = std::make_unique<Generation>(*r.session, r.prompt, reqs[i].options, [&r](std::string_view t) {
        r.streamed += t;
        return true;
      });
      r.next = r.generation->next();
    }
    std::vector<Session*> batch;
    std::vector<int32_t> tokens;
    std::vector<size_t> who;
    for (size_t i = 0; i < run.size(); ++i) {
      Running& r = run[i];
      if (!r.generation || r.finished) continue;
      if (!r.next) {
        r.result = r.generation->finish();
        r.finished = true;
        continue;
      }
      batch.push_back(r.session.get());
      tokens.push_back(*r.next);
      who.push_back(i);
    }
    if (batch.empty() && step > 3) break;
    max_batch = std::max(max_batch, static_cast<int>(batch.size()));
    Session::decode_together(batch, tokens);
    for (size_t i : who) run[i].next = run[i].generation->next();
  }
  EXPECT_GE(max_batch, 3);
  for (size_t i = 0; i < reqs.size(); ++i) {
    ASSERT_TRUE(run[i].finished) << "request " << i;
    EXPECT_EQ(run[i].result.output_ids, alone[i].output_ids) << "request " << i;
    EXPECT_EQ(run[i].result.text, alone[i].text) << "request " << i;
    EXPECT_EQ(run[i].streamed, alone[i].text) << "request " << i;
    EXPECT_EQ(run[i].result.finish_reason, alone[i].finish_reason) << "request " << i;
    EXPECT_EQ(run[i].result.prompt_ids, alone[i].prompt_ids) << "request " << i;
  }
}

TEST(SessionBatch, ABadBatchIsRefusedAndChangesNoSession) {
  GenerateOptions o;
  o.sampling.temperature = 0.0f;
  Session a(fixture_model()), b(fixture_model()), empty(fixture_model());
  a.prefill(a.prepare(user_text("one"), o));
  b.prefill(b.prepare(user_text("two"), o));
  const std::vector<float> a_logits(a.logits().begin(), a.logits().end());
  const int64_t a_rows = a.cached_tokens(), b_rows = b.cached_tokens();

  Session* twice[] = {&a, &a};
  const int32_t two_tokens[] = {1, 2};
  EXPECT_THROW(Session::decode_together(twice, two_tokens), Error);
  Session* with_empty[] = {&a, &empty};
  EXPECT_THROW(Session::decode_together(with_empty, two_tokens), Error);
  Session* pair[] = {&a, &b};
  const int32_t bad_token[] = {1, -3};
  EXPECT_THROW(Session::decode_together(pair, bad_token), Error);
  const int32_t one_token[] = {1};
  EXPECT_THROW(Session::decode_together(pair, one_token), Error);

  EXPECT_EQ(a.cached_tokens(), a_rows);
  EXPECT_EQ(b.cached_tokens(), b_rows);
  EXPECT_EQ(std::vector<float>(a.logits().begin(), a.logits().end()), a_logits);
}

}  // namespace

// Session::prefill_part: a prompt with an image, prefilled 16 rows at a time
// (parts cut through the image's rows), gives the same logits whatever
// another session does between the parts, and the logits of prefill() up to
// float rounding (the chunks differ).
TEST(SessionBatch, PrefillInPartsIgnoresWhatRunsBetweenThem) {
  const Request r = requests()[3];
  constexpr int64_t kRows = 16;
  auto prefill_in_parts = [&](Session& s, PreparedPrompt& p, Session* other) {
    s.encode(p);
    int64_t calls = 0, computed = 0;
    for (;;) {
      const PrefillStats part = s.prefill_part(p, kRows);
      EXPECT_EQ(part.reused_tokens, computed) << "part " << calls;
      EXPECT_LE(part.prefilled_tokens, kRows);
      computed += part.prefilled_tokens;
      ++calls;
      if (part.complete) break;
      EXPECT_TRUE(s.logits().empty()) << "no logits before the whole prompt is in";
      if (other) other->decode_step(static_cast<int32_t>(100 + calls));  // unrelated work in between
    }
    EXPECT_EQ(computed, s.cached_tokens());
    return calls;
  };
  Session quiet(fixture_model()), busy(fixture_model()), whole(fixture_model()), other(fixture_model());
  PreparedPrompt p1 = quiet.prepare(r.messages, r.options);
  PreparedPrompt p2 = busy.prepare(r.messages, r.options);
  PreparedPrompt p3 = whole.prepare(r.messages, r.options);
  PreparedPrompt po = other.prepare(user_text("Something else entirely."), r.options);
  other.encode(po);
  other.prefill(po);

  const int64_t calls = prefill_in_parts(quiet, p1, nullptr);
  EXPECT_EQ(prefill_in_parts(busy, p2, &other), calls);
  EXPECT_EQ(calls, (quiet.cached_tokens() + kRows - 1) / kRows);
  EXPECT_GT(calls, 6);
  whole.encode(p3);
  whole.prefill(p3);

  const std::vector<float> a(quiet.logits().begin(), quiet.logits().end());
  const std::vector<float> b(busy.logits().begin(), busy.logits().end());
  const std::vector<float> c(whole.logits().begin(), whole.logits().end());
  ASSERT_EQ(a.size(), c.size());
  EXPECT_TRUE(a == b) << "a part's rows depend on what ran between the parts";
  float diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - c[i]));
  EXPECT_LT(diff, 1e-3f);
  EXPECT_EQ(std::max_element(a.begin(), a.end()) - a.begin(), std::max_element(c.begin(), c.end()) - c.begin());

  // Prefilled again: everything but the last row is kept.
  const PrefillStats again = quiet.prefill_part(p1, kRows);
  EXPECT_TRUE(again.complete);
  EXPECT_EQ(again.prefilled_tokens, 1);
  EXPECT_THROW(quiet.prefill_part(p1, 0), Error);
}
