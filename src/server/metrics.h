// What /metrics reports, in Prometheus' text format. Counters only grow;
// gauges are read at scrape time. Updated from the HTTP threads and the
// scheduler, so everything is atomic.
#pragma once
#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>

namespace qwen3vl::server {

class Metrics {
 public:
  // A finished HTTP request to a /v1 route, by status class.
  void count_request(int status);
  void add_prompt_tokens(int64_t n) { prompt_tokens_ += n; }
  void add_completion_tokens(int64_t n) { completion_tokens_ += n; }
  void add_prefix_cache_hit_tokens(int64_t n) { prefix_cache_hit_tokens_ += n; }
  void count_image_cache_hit() { ++image_cache_hits_; }
  void count_image_cache_miss() { ++image_cache_misses_; }
  void count_cancelled() { ++cancelled_; }
  // `n` tokens decoded by a pass that took `seconds` (all slots together).
  void add_decode(int64_t tokens, double seconds);
  // `parts` parts of prompts prefilled in one step; `beside_decode`: the step
  // also decoded tokens of running answers (they kept flowing).
  void add_prefill_parts(int64_t parts, bool beside_decode) {
    prefill_parts_ += parts;
    if (beside_decode) prefill_parts_beside_decode_ += parts;
  }
  void set_queue_depth(int64_t n) { queue_depth_ = n; }
  void set_active_slots(int64_t n) { active_slots_ = n; }

  // The exposition text; `slots` is the configured parallelism.
  std::string prometheus_text(int slots) const;

 private:
  std::atomic<int64_t> requests_ok_{0}, requests_client_error_{0}, requests_server_error_{0};
  std::atomic<int64_t> prompt_tokens_{0}, completion_tokens_{0}, prefix_cache_hit_tokens_{0};
  std::atomic<int64_t> image_cache_hits_{0}, image_cache_misses_{0}, cancelled_{0};
  std::atomic<int64_t> queue_depth_{0}, active_slots_{0};
  std::atomic<int64_t> prefill_parts_{0}, prefill_parts_beside_decode_{0};
  // Decode throughput over a sliding window of about ten seconds.
  mutable std::mutex decode_mutex_;
  int64_t decoded_tokens_total_ = 0;
  double decode_seconds_total_ = 0;
  int64_t decode_passes_total_ = 0;
  int64_t largest_decode_batch_ = 0;
  int64_t window_tokens_ = 0;
  double window_seconds_ = 0;
  std::chrono::steady_clock::time_point window_start_ = std::chrono::steady_clock::now();
  double last_window_rate_ = 0;
};

}  // namespace qwen3vl::server
