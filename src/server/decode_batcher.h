// Continuous batching across the threads that run requests: each thread
// with an answer under way hands its next token to step(), and one of them
// decodes the tokens of every running answer in one pass over the weights
// (Session::decode_together); then each thread samples its own next token.
// A thread still preparing, encoding or prefilling its prompt is not a
// member, so the others keep decoding meanwhile (their steps and its prefill
// take turns on the model's thread pool), and it joins the batch at the next
// step once its prompt is in. Outputs do not depend on the batch: every
// session's logits are those it gets alone.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <vector>

#include "server/metrics.h"

namespace qwen3vl {
class Session;
}

namespace qwen3vl::server {

class DecodeBatcher {
 public:
  explicit DecodeBatcher(Metrics* metrics = nullptr) : metrics_(metrics) {}

  // A thread starts / stops taking part in the steps (see Membership).
  void join();
  void leave();
  // Appends `token` to `session` together with the other members' tokens;
  // returns when done. Throws what decoding this session threw.
  void step(Session& session, int32_t token);

  // Batched passes so far and the largest batch (for tests and logs).
  int64_t passes() const;
  int max_batch() const;

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
    int32_t token = 0;
    bool done = false;
    std::exception_ptr error;
  };
  void decode(const std::vector<Entry*>& batch);

  Metrics* metrics_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  int members_ = 0;
  std::vector<Entry*> pending_;  // this step's tokens so far
  bool decoding_ = false;        // a member is running a step
  int64_t passes_ = 0;
  int max_batch_ = 0;
};

}  // namespace qwen3vl::server
