// The state every route handler shares: options, metrics, and, once loaded,
// the model and the scheduler that runs requests on it.
#pragma once
#include <atomic>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "server/metrics.h"
#include "server/scheduler.h"
#include "server/server_options.h"

namespace qwen3vl {
class Model;
}

namespace qwen3vl::server {

struct ServerContext {
  ServerOptions options;
  Metrics metrics;
  std::atomic<bool> ready{false};     // model loaded, scheduler running
  std::atomic<bool> draining{false};  // SIGTERM received: no new work
  std::shared_ptr<const Model> model;
  std::unique_ptr<Scheduler> scheduler;
  std::string model_name;
  int64_t context_length = 0;
  int64_t created = 0;  // Unix time the model was loaded (for /v1/models)

  // A seed for requests that give none, different each time.
  uint64_t random_seed() {
    std::lock_guard<std::mutex> lock(seed_mutex_);
    return seed_rng_();
  }

 private:
  std::mutex seed_mutex_;
  std::mt19937_64 seed_rng_{std::random_device{}()};
};

}  // namespace qwen3vl::server
