// The server's continuous batching without HTTP: jobs submitted together to
// a scheduler with four workers over the session backend run at once, their
// decode steps batched, and each answer equals the same request run alone;
// a bad request among them fails alone. A long prompt joining a running
// answer is prefilled in parts between that answer's decode steps.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "qwen3vl/qwen3vl.h"
#include "server/generation_backend.h"
#include "server/scheduler.h"

using namespace qwen3vl;
using namespace qwen3vl::server;

namespace {

const std::string kFixture = QWEN3VL_FIXTURE_DIR;

std::shared_ptr<const Model> fixture_model() {
  static std::shared_ptr<const Model> m = Model::load(kFixture);
  return m;
}

Json user(const std::string& text) { return Json::array({{{"role", "user"}, {"content", text}}}); }

GenerateOptions options(int max_tokens, float temperature, uint64_t seed = 0) {
  GenerateOptions o;
  o.max_tokens = max_tokens;
  o.sampling.temperature = temperature;
  if (seed) o.sampling.seed = seed;
  return o;
}

struct Finished {
  std::string text;
  BackendResult result;
  std::optional<ApiError> error;
};

Finished wait_finished(GenerationJob& j) {
  Finished f;
  for (;;) {
    GenerationJob::Update u = j.wait(std::chrono::milliseconds(1000));
    f.text += u.text;
    if (u.finished) {
      f.result = u.result;
      f.error = u.error;
      return f;
    }
  }
}

int64_t metric(const std::string& text, const std::string& name) {
  const size_t at = text.find("\n" + name + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + name.size() + 2));
}

}  // namespace

TEST(ServerBatching, ConcurrentJobsAnswerAsAloneAndABadOneFailsAlone) {
  struct Request {
    Json messages;
    GenerateOptions options;
  };
  const std::vector<Request> requests = {
      {user("Tell me about the sea."), options(24, 0.0f)},
      {user("Count to five."), options(16, 0.0f)},
      {user("A poem, please."), options(20, 0.8f, 42)},
      {user("Why is the sky blue?"), options(24, 0.0f)},
      {user("And once more."), options(12, 0.0f)},
  };
  std::vector<std::string> alone;
  for (const Request& r : requests) {
    Session s(fixture_model());
    alone.push_back(s.generate(r.messages, r.options).text);
  }

  Metrics metrics;
  Scheduler scheduler(make_session_backend(fixture_model(), {4, size_t(16) << 20}, &metrics), metrics, 16, 4);
  std::vector<std::shared_ptr<GenerationJob>> jobs;
  for (size_t i = 0; i < requests.size(); ++i) {
    jobs.push_back(std::make_shared<GenerationJob>(requests[i].messages, requests[i].options));
    scheduler.submit(jobs.back());
    if (i == 1) {  // an image that is no image, among them
      const Json bad = Json::array(
          {{{"role", "user"},
            {"content", Json::array({{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}},
                                     {{"type", "text"}, {"text", "what is this?"}}})}}});
      auto job = std::make_shared<GenerationJob>(bad, options(8, 0.0f));
      scheduler.submit(job);
      const Finished f = wait_finished(*job);
      ASSERT_TRUE(f.error.has_value());
      EXPECT_EQ(f.error->status(), 400) << f.error->what();
    }
  }
  for (size_t i = 0; i < jobs.size(); ++i) {
    const Finished f = wait_finished(*jobs[i]);
    ASSERT_FALSE(f.error.has_value()) << "request " << i << ": " << f.error->what();
    EXPECT_EQ(f.text, alone[i]) << "request " << i << " differs from its answer alone";
  }
  const std::string text = metrics.prometheus_text(4);
  EXPECT_GE(metric(text, "qwen3vl_decode_batch_max"), 2) << text;
  EXPECT_LT(metric(text, "qwen3vl_decode_passes_total"), metric(text, "qwen3vl_decoded_tokens_total")) << text;
}

TEST(ServerBatching, ALongPromptJoiningIsPrefilledInPartsWhileAnswersKeepFlowing) {
  // A: a long answer to a short prompt; B: a short answer to a ~600-token prompt.
  const Json a_messages = user("Tell me a very long story about the sea.");
  std::string long_text;
  for (int i = 0; i < 300; ++i) long_text += "word" + std::to_string(i % 10) + " ";
  const Json b_messages = user(long_text + "Summarise.");
  const GenerateOptions a_options = options(400, 0.0f), b_options = options(8, 0.7f, 11);
  constexpr int64_t kPartRows = 64;
  const SessionBackendOptions backend{2, size_t(16) << 20, kPartRows};

  auto run_alone = [&](const Json& messages, const GenerateOptions& o) {
    Metrics metrics;
    Scheduler scheduler(make_session_backend(fixture_model(), backend, &metrics), metrics, 4, 2);
    auto job = std::make_shared<GenerationJob>(messages, o);
    scheduler.submit(job);
    return wait_finished(*job);
  };
  const Finished a_alone = run_alone(a_messages, a_options);
  const Finished b_alone = run_alone(b_messages, b_options);
  ASSERT_FALSE(a_alone.error || b_alone.error);
  // A runs to max_tokens alone, so it is still decoding while B prefills.
  ASSERT_EQ(a_alone.result.finish_reason, "length");
  const int64_t b_parts = (b_alone.result.prompt_tokens + kPartRows - 1) / kPartRows;
  ASSERT_GE(b_parts, 8) << "B's prompt should take several parts";
  ASSERT_GT(a_options.max_tokens, b_parts + 10);

  Metrics metrics;
  Scheduler scheduler(make_session_backend(fixture_model(), backend, &metrics), metrics, 4, 2);
  auto a = std::make_shared<GenerationJob>(a_messages, a_options);
  scheduler.submit(a);
  // B arrives once A is answering.
  std::string a_text;
  while (a_text.empty()) {
    GenerationJob::Update u = a->wait(std::chrono::milliseconds(1000));
    ASSERT_FALSE(u.finished);
    a_text += u.text;
  }
  auto b = std::make_shared<GenerationJob>(b_messages, b_options);
  scheduler.submit(b);
  const Finished b_done = wait_finished(*b);
  Finished a_done = wait_finished(*a);
  a_done.text = a_text + a_done.text;
  ASSERT_FALSE(a_done.error || b_done.error);
  EXPECT_EQ(a_done.text, a_alone.text) << "the running answer changed when B joined";
  EXPECT_EQ(b_done.text, b_alone.text) << "B's answer depends on what ran beside it";
  EXPECT_EQ(b_done.result.prompt_tokens, b_alone.result.prompt_tokens);

  // Every part of B's prompt ran in a step that also decoded A: A got a
  // token per part instead of waiting for the whole prompt.
  const std::string text = metrics.prometheus_text(2);
  EXPECT_GE(metric(text, "qwen3vl_prefill_parts_beside_decode_total"), b_parts) << text;
  EXPECT_EQ(metric(text, "qwen3vl_prefill_parts_total"), b_parts + 1) << text;  // A's prompt: one part
}
