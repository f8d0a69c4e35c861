#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include "qwen3vl/base/error.h"
#include "server/scheduler.h"

using namespace qwen3vl;
using namespace qwen3vl::server;

namespace {

// Runs jobs by echoing their first message's text, one character at a time,
// after the gate opens; records the order.
class EchoBackend : public GenerationBackend {
 public:
  std::mutex mutex;
  std::vector<std::string> order;
  std::atomic<bool> gate{true};

  BackendResult run(GenerationJob& job) override {
    while (!gate) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    const std::string text = job.messages()[0]["content"];
    {
      std::lock_guard<std::mutex> lock(mutex);
      order.push_back(text);
    }
    if (text == "bad") throw Error("the prompt is 99999 tokens but the context holds 10");
    BackendResult r;
    for (char c : text) {
      if (!job.append(std::string(1, c))) break;
      ++r.completion_tokens;
    }
    return r;
  }
};

std::shared_ptr<GenerationJob> job(const std::string& text) {
  return std::make_shared<GenerationJob>(Json::array({Json{{"role", "user"}, {"content", text}}}), GenerateOptions{});
}

GenerationJob::Update wait_finished(GenerationJob& j) {
  std::string text;
  for (;;) {
    GenerationJob::Update u = j.wait(std::chrono::milliseconds(1000));
    text += u.text;
    if (u.finished) {
      u.text = text;
      return u;
    }
  }
}

// A scheduler over an EchoBackend whose gate starts closed.
struct GatedScheduler {
  explicit GatedScheduler(int max_queue) {
    auto backend = std::make_unique<EchoBackend>();
    backend->gate = false;
    echo = backend.get();
    scheduler = std::make_unique<Scheduler>(std::move(backend), metrics, max_queue);
  }
  Metrics metrics;
  EchoBackend* echo = nullptr;
  std::unique_ptr<Scheduler> scheduler;
};

}  // namespace

TEST(ServerScheduler, RunsJobsInArrivalOrderAndSkipsAbandonedOnes) {
  GatedScheduler g(10);
  EchoBackend& b = *g.echo;
  Scheduler& s = *g.scheduler;
  Metrics& metrics = g.metrics;
  auto a = job("first"), gone = job("gone"), c = job("third"), bad = job("bad");
  s.submit(a);
  s.submit(gone);
  s.submit(c);
  s.submit(bad);
  gone->cancel();  // the client left while waiting
  b.gate = true;
  EXPECT_EQ(wait_finished(*a).text, "first");
  EXPECT_EQ(wait_finished(*c).text, "third");
  const auto u = wait_finished(*gone);
  ASSERT_TRUE(u.error.has_value());
  const auto e = wait_finished(*bad);
  ASSERT_TRUE(e.error.has_value());
  EXPECT_EQ(e.error->status(), 400);  // the library's input errors are the client's
  EXPECT_NE(std::string(e.error->what()).find("context holds"), std::string::npos);
  EXPECT_EQ(b.order, (std::vector<std::string>{"first", "third", "bad"}));
  // The worker lets go of the last job just after finishing it.
  for (int i = 0; i < 5000 && !s.idle(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  EXPECT_TRUE(s.idle());
  EXPECT_NE(metrics.prometheus_text(1).find("qwen3vl_completion_tokens_total 10"), std::string::npos);
}

TEST(ServerScheduler, FullQueueAndShutdownRefuseWith503) {
  GatedScheduler g(1);
  EchoBackend& b = *g.echo;
  Scheduler& s = *g.scheduler;
  Metrics& metrics = g.metrics;
  auto running = job("r"), queued = job("q");
  s.submit(running);
  while (s.idle() || metrics.prometheus_text(1).find("qwen3vl_active_slots 1") == std::string::npos)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  s.submit(queued);
  try {
    s.submit(job("overflow"));
    ADD_FAILURE() << "a full queue accepted a job";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  s.stop_accepting();
  const auto q = wait_finished(*queued);
  ASSERT_TRUE(q.error.has_value());
  EXPECT_EQ(q.error->status(), 503);
  try {
    s.submit(job("late"));
    ADD_FAILURE() << "accepted a job while stopping";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status(), 503);
  }
  b.gate = true;
  EXPECT_EQ(wait_finished(*running).text, "r");  // the running one finishes
}
