// Runs accepted jobs on the backend in arrival order (FIFO), up to `workers`
// at once (one thread each; the session backend decodes the running ones
// together). A job whose client left while it waited is dropped without
// running; a full queue or a server shutting down refuses new jobs with 503.
#pragma once
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "server/generation_backend.h"
#include "server/metrics.h"

namespace qwen3vl::server {

class Scheduler {
 public:
  Scheduler(std::unique_ptr<GenerationBackend> backend, Metrics& metrics, int max_queue, int workers = 1);
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues `job`; throws ApiError 503 when the queue is full or the server
  // is shutting down.
  void submit(std::shared_ptr<GenerationJob> job);

  // Stops taking jobs: queued ones fail with 503, running ones continue.
  void stop_accepting();
  // Cancels the running jobs (they finish with what they produced so far).
  void cancel_running();
  // True when nothing is queued or running.
  bool idle() const;

 private:
  void worker();

  std::unique_ptr<GenerationBackend> backend_;
  Metrics& metrics_;
  const int max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::shared_ptr<GenerationJob>> queue_;
  std::vector<std::shared_ptr<GenerationJob>> running_;
  bool accepting_ = true;
  bool exit_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace qwen3vl::server
