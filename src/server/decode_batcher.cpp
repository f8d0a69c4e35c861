#include "server/decode_batcher.h"

#include <algorithm>
#include <chrono>

#include "qwen3vl/qwen3vl.h"

namespace qwen3vl::server {

void DecodeBatcher::join() {
  std::lock_guard<std::mutex> lock(mutex_);
  ++members_;
}

void DecodeBatcher::leave() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    --members_;
  }
  // The waiting members may now be all there is: one of them leads the step.
  changed_.notify_all();
}

int64_t DecodeBatcher::passes() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return passes_;
}

int DecodeBatcher::max_batch() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return max_batch_;
}

void DecodeBatcher::step(Session& session, int32_t token) {
  Entry mine;
  mine.session = &session;
  mine.token = token;
  std::unique_lock<std::mutex> lock(mutex_);
  pending_.push_back(&mine);
  changed_.notify_all();
  while (!mine.done) {
    // Once every member has handed in its token, the first to notice decodes
    // them all; an entry not yet done is still in pending_.
    if (!decoding_ && static_cast<int>(pending_.size()) >= members_) {
      std::vector<Entry*> batch;
      batch.swap(pending_);
      decoding_ = true;
      ++passes_;
      max_batch_ = std::max(max_batch_, static_cast<int>(batch.size()));
      lock.unlock();
      decode(batch);
      lock.lock();
      for (Entry* e : batch) e->done = true;
      decoding_ = false;
      changed_.notify_all();
      continue;
    }
    changed_.wait(lock);
  }
  lock.unlock();
  if (mine.error) std::rethrow_exception(mine.error);
}

void DecodeBatcher::decode(const std::vector<Entry*>& batch) {
  std::vector<Session*> sessions;
  std::vector<int32_t> tokens;
  for (const Entry* e : batch) {
    sessions.push_back(e->session);
    tokens.push_back(e->token);
  }
  const auto t0 = std::chrono::steady_clock::now();
  try {
    Session::decode_together(sessions, tokens);
  } catch (...) {
    // A refused batch changed no session: decode each alone, so only the
    // session at fault gets the error.
    for (Entry* e : batch) {
      try {
        e->session->decode_step(e->token);
      } catch (...) {
        e->error = std::current_exception();
      }
    }
  }
  if (metrics_)
    metrics_->add_decode(static_cast<int64_t>(batch.size()),
                         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

}  // namespace qwen3vl::server
