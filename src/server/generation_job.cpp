#include "server/generation_job.h"

namespace qwen3vl::server {

GenerationJob::Update GenerationJob::wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  changed_.wait_for(lock, timeout, [&] { return !text_.empty() || finished_; });
  Update u;
  u.text.swap(text_);
  if (finished_) {
    u.finished = true;
    u.result = result_;
    u.error = error_;
  }
  return u;
}

bool GenerationJob::append(std::string_view text) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    text_.append(text);
  }
  changed_.notify_all();
  return !cancelled_;
}

void GenerationJob::finish(const BackendResult& result) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    result_ = result;
    finished_ = true;
  }
  changed_.notify_all();
}

void GenerationJob::fail(const ApiError& error) {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (finished_) return;
    error_ = error;
    finished_ = true;
  }
  changed_.notify_all();
}

}  // namespace qwen3vl::server
