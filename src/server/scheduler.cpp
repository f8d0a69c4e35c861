#include "server/scheduler.h"

#include <algorithm>
#include <new>

#include "qwen3vl/base/error.h"

namespace qwen3vl::server {

Scheduler::Scheduler(std::unique_ptr<GenerationBackend> backend, Metrics& metrics, int max_queue, int workers)
    : backend_(std::move(backend)), metrics_(metrics), max_queue_(max_queue) {
  for (int i = 0; i < std::max(1, workers); ++i) threads_.emplace_back([this] { worker(); });
}

Scheduler::~Scheduler() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    exit_ = true;
  }
  stop_accepting();
  cancel_running();
  wake_.notify_all();
  for (std::thread& t : threads_) t.join();
}

void Scheduler::submit(std::shared_ptr<GenerationJob> job) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!accepting_) throw ApiError(503, "service_unavailable_error", "the server is shutting down");
    if (static_cast<int>(queue_.size()) >= max_queue_)
      throw ApiError(503, "service_unavailable_error",
                     "the server is busy: " + std::to_string(queue_.size()) + " requests are waiting already");
    queue_.push_back(std::move(job));
    metrics_.set_queue_depth(static_cast<int64_t>(queue_.size()));
  }
  wake_.notify_all();
}

void Scheduler::stop_accepting() {
  std::deque<std::shared_ptr<GenerationJob>> dropped;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    accepting_ = false;
    dropped.swap(queue_);
    metrics_.set_queue_depth(0);
  }
  for (auto& job : dropped) job->fail(ApiError(503, "service_unavailable_error", "the server is shutting down"));
  wake_.notify_all();
}

void Scheduler::cancel_running() {
  std::lock_guard<std::mutex> lock(mutex_);
  for (auto& job : running_) job->cancel();
}

bool Scheduler::idle() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return queue_.empty() && running_.empty();
}

void Scheduler::worker() {
  for (;;) {
    std::shared_ptr<GenerationJob> job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return exit_ || !queue_.empty(); });
      if (queue_.empty()) return;
      job = std::move(queue_.front());
      queue_.pop_front();
      metrics_.set_queue_depth(static_cast<int64_t>(queue_.size()));
      if (job->cancelled()) {  // the client left while it waited (counted by the HTTP side)
        job->fail(ApiError(499, "invalid_request_error", "the client closed the connection"));
        continue;
      }
      running_.push_back(job);
      metrics_.set_active_slots(static_cast<int64_t>(running_.size()));
    }
    try {
      const BackendResult r = backend_->run(*job);
      metrics_.add_prompt_tokens(r.prompt_tokens);
      metrics_.add_completion_tokens(r.completion_tokens);
      metrics_.add_prefix_cache_hit_tokens(r.cached_tokens);
      if (!r.decode_in_metrics) metrics_.add_decode(r.completion_tokens, r.decode_seconds);
      for (int i = 0; i < r.images_from_cache; ++i) metrics_.count_image_cache_hit();
      for (int i = 0; i < r.images_encoded; ++i) metrics_.count_image_cache_miss();
      job->finish(r);
    } catch (const ApiError& e) {
      job->fail(e);
    } catch (const Error& e) {
      // The library's errors are about the input (image, prompt length, template).
      job->fail(invalid_request(e.what()));
    } catch (const std::bad_alloc&) {
      job->fail(ApiError(503, "service_unavailable_error", "out of memory while running the request"));
    } catch (const std::exception& e) {
      job->fail(ApiError(500, "server_error", std::string("internal error: ") + e.what()));
    }
    std::lock_guard<std::mutex> lock(mutex_);
    running_.erase(std::find(running_.begin(), running_.end(), job));
    metrics_.set_active_slots(static_cast<int64_t>(running_.size()));
  }
}

}  // namespace qwen3vl::server
