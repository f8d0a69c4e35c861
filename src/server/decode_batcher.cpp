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
  // The waiting members may now be all there is: one of them runs the step.
  changed_.notify_all();
}

void DecodeBatcher::step(Session& session, int32_t token) {
  Entry mine;
  mine.session = &session;
  mine.token = token;
  submit(mine);
}

PrefillStats DecodeBatcher::prefill(Session& session, const PreparedPrompt& prompt) {
  PrefillStats total;
  for (bool first = true;; first = false) {
    PrefillStats part;
    Entry mine;
    mine.session = &session;
    mine.prompt = &prompt;
    mine.prefilled = &part;
    submit(mine);
    if (first) total.reused_tokens = part.reused_tokens;
    total.prefilled_tokens += part.prefilled_tokens;
    total.ms += part.ms;
    if (part.complete) return total;
  }
}

void DecodeBatcher::submit(Entry& mine) {
  std::unique_lock<std::mutex> lock(mutex_);
  pending_.push_back(&mine);
  changed_.notify_all();
  while (!mine.done) {
    // Once every member has handed in its work, the first to notice runs the
    // step; work it leaves for later stays in pending_.
    if (!running_ && static_cast<int>(pending_.size()) >= members_) {
      const std::vector<Entry*> step = take_step();
      running_ = true;
      lock.unlock();
      run_step(step);
      lock.lock();
      for (Entry* e : step) e->done = true;
      running_ = false;
      changed_.notify_all();
      continue;
    }
    changed_.wait(lock);
  }
  lock.unlock();
  if (mine.error) std::rethrow_exception(mine.error);
}

auto DecodeBatcher::take_step() -> std::vector<Entry*> {
  std::vector<Entry*> step, later;
  bool decoding = false;
  for (Entry* e : pending_) decoding = decoding || !e->prompt;
  bool part_taken = false;
  for (Entry* e : pending_) {
    // Every token; prompt parts oldest first, one while answers wait on the step.
    if (!e->prompt || !decoding || !part_taken) {
      step.push_back(e);
      part_taken = part_taken || e->prompt;
    } else {
      later.push_back(e);
    }
  }
  pending_.swap(later);
  return step;
}

void DecodeBatcher::run_step(const std::vector<Entry*>& step) {
  std::vector<Entry*> decode;
  std::vector<Session*> sessions;
  std::vector<int32_t> tokens;
  for (Entry* e : step)
    if (!e->prompt) {
      decode.push_back(e);
      sessions.push_back(e->session);
      tokens.push_back(e->token);
    }
  const int parts = static_cast<int>(step.size() - decode.size());
  if (!decode.empty()) {
    const auto t0 = std::chrono::steady_clock::now();
    try {
      Session::decode_together(sessions, tokens);
    } catch (...) {
      // A refused batch changed no session: decode each alone, so only the
      // session at fault gets the error.
      for (Entry* e : decode) {
        try {
          e->session->decode_step(e->token);
        } catch (...) {
          e->error = std::current_exception();
        }
      }
    }
    if (metrics_)
      metrics_->add_decode(static_cast<int64_t>(decode.size()),
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  for (Entry* e : step) {
    if (!e->prompt) continue;
    try {
      *e->prefilled = e->session->prefill_part(*e->prompt, part_rows_);
    } catch (...) {
      e->error = std::current_exception();
    }
  }
  if (metrics_ && parts > 0) metrics_->add_prefill_parts(parts, !decode.empty());
}

}  // namespace qwen3vl::server
