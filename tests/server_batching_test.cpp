// The server's continuous batching without HTTP: jobs submitted together to
// a scheduler with four workers over the session backend run at once, their
// decode steps batched, and each answer equals the same request run alone;
// a bad request among them fails alone.
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
  Scheduler scheduler(make_session_backend(fixture_model(), 4, size_t(16) << 20, &metrics), metrics, 16, 4);
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
