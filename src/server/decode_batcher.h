// Continuous batching across the threads that run requests. Each thread with
// a request under way is a member and hands in its next piece of work per
// step: the next token of its answer (step()), or the next part of its
// prompt (prefill()). Once every member has handed in, one of them runs the
// step: all the tokens in one decode pass over the weights
// (Session::decode_together), then prompt parts (Session::prefill_part) —
// one part while others wait for tokens, so a long prompt joining costs the
// running answers one part's time per token instead of its whole prefill;
// every waiting part when nobody does. Then each thread samples its own
// next token. A thread still preparing or encoding its prompt is not a
// member yet, so the others keep decoding meanwhile (their steps and its
// encoding take turns on the model's thread pool). Outputs do not depend on
// the batch: every session's logits are those it gets alone, and a prompt
// is cut into the same parts whatever runs beside it.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#include "server/metrics.h"

namespace qwen3vl {
class PreparedPrompt;
class Session;
struct PrefillStats;
}  // namespace qwen3vl

namespace qwen3vl::server {

class DecodeBatcher {
 public:
  // `prefill_part_rows`: prompt rows computed per part. Decode passes and
  // prompt parts are counted in `metrics` (may be null).
  explicit DecodeBatcher(Metrics* metrics = nullptr, int64_t prefill_part_rows = 128)
      : metrics_(metrics), part_rows_(prefill_part_rows) {}

  // A thread starts / stops taking part in the steps (see Membership).
  void join();
  void leave();
  // Appends `token` to `session` together with the other members' tokens;
  // returns when done. Throws what decoding this session threw.
  void step(Session& session, int32_t token);
  // Prefills `prompt` into `session` (a member's) part by part, between the
  // other members' decode passes; returns when the whole prompt is in, with
  // the prefix reused at the start and the rows computed in all.
  PrefillStats prefill(Session& session, const PreparedPrompt& prompt);

  // join() for a scope.
  class Membership {
   public:
    explicit Membership(DecodeBatcher& b) : b_(b) { b_.join(); }
    ~Membership() { b_.leave(); }
    Membership(const Membership&) = delete;
    Membership& operator=(const Membership&) = delete;

   private:
    DecodeBatcher& b_;
  };

 private:
  struct Entry {
    Session* session = nullptr;
    int32_t token = 0;                         // a decode step's token, or
    const PreparedPrompt* prompt = nullptr;    // a prompt to prefill a part of
    PrefillStats* prefilled = nullptr;         // that part's outcome
    bool done = false;
    std::exception_ptr error;
  };
  // Hands `mine` in and waits until a step has run it.
  void submit(Entry& mine);
  // Takes this step's work out of pending_ (mutex_ held).
  std::vector<Entry*> take_step();
  void run_step(const std::vector<Entry*>& step);

  Metrics* metrics_;
  const int64_t part_rows_;
  std::mutex mutex_;
  std::condition_variable changed_;
  int members_ = 0;
  std::vector<Entry*> pending_;  // handed in, not run yet, in arrival order
  bool running_ = false;         // a member is running a step
};

}  // namespace qwen3vl::server
