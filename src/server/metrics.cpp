#include "server/metrics.h"

#include <algorithm>
#include <sstream>

namespace qwen3vl::server {

void Metrics::count_request(int status) {
  if (status < 400) ++requests_ok_;
  else if (status < 500) ++requests_client_error_;
  else ++requests_server_error_;
}

void Metrics::add_decode(int64_t tokens, double seconds) {
  std::lock_guard<std::mutex> lock(decode_mutex_);
  decoded_tokens_total_ += tokens;
  decode_seconds_total_ += seconds;
  ++decode_passes_total_;
  largest_decode_batch_ = std::max(largest_decode_batch_, tokens);
  window_tokens_ += tokens;
  window_seconds_ += seconds;
  const auto now = std::chrono::steady_clock::now();
  if (now - window_start_ > std::chrono::seconds(10)) {
    last_window_rate_ = window_seconds_ > 0 ? window_tokens_ / window_seconds_ : 0;
    window_tokens_ = 0;
    window_seconds_ = 0;
    window_start_ = now;
  }
}

std::string Metrics::prometheus_text(int slots) const {
  std::ostringstream o;
  auto metric = [&](const char* name, const char* type, const char* help, auto value, const char* labels = "") {
    o << "# HELP " << name << " " << help << "\n# TYPE " << name << " " << type << "\n"
      << name << labels << " " << value << "\n";
  };
  o << "# HELP qwen3vl_requests_total Finished /v1 requests by outcome.\n"
    << "# TYPE qwen3vl_requests_total counter\n"
    << "qwen3vl_requests_total{status=\"2xx\"} " << requests_ok_.load() << "\n"
    << "qwen3vl_requests_total{status=\"4xx\"} " << requests_client_error_.load() << "\n"
    << "qwen3vl_requests_total{status=\"5xx\"} " << requests_server_error_.load() << "\n";
  metric("qwen3vl_requests_cancelled_total", "counter", "Requests stopped early because the client went away.",
         cancelled_.load());
  metric("qwen3vl_prompt_tokens_total", "counter", "Prompt tokens of finished requests.", prompt_tokens_.load());
  metric("qwen3vl_completion_tokens_total", "counter", "Generated tokens.", completion_tokens_.load());
  metric("qwen3vl_prefix_cache_hit_tokens_total", "counter", "Prompt tokens served from a slot's KV cache.",
         prefix_cache_hit_tokens_.load());
  metric("qwen3vl_image_cache_hits_total", "counter", "Images whose vision encoding came from the cache.",
         image_cache_hits_.load());
  metric("qwen3vl_image_cache_misses_total", "counter", "Images that had to be encoded.", image_cache_misses_.load());
  metric("qwen3vl_prefill_parts_total", "counter", "Prompt parts prefilled (prompts run in parts between decode steps).",
         prefill_parts_.load());
  metric("qwen3vl_prefill_parts_beside_decode_total", "counter",
         "Prompt parts prefilled in a step that also decoded running answers.", prefill_parts_beside_decode_.load());
  metric("qwen3vl_queue_depth", "gauge", "Requests waiting for a slot.", queue_depth_.load());
  metric("qwen3vl_active_slots", "gauge", "Slots generating now.", active_slots_.load());
  metric("qwen3vl_slots", "gauge", "Configured parallel slots.", slots);
  {
    std::lock_guard<std::mutex> lock(decode_mutex_);
    const double recent = window_seconds_ > 1 ? window_tokens_ / window_seconds_ : last_window_rate_;
    metric("qwen3vl_decode_tokens_per_second", "gauge", "Decode throughput of all slots over the last ~10 s of decoding.",
           recent);
    metric("qwen3vl_decoded_tokens_total", "counter", "Tokens produced by decode steps.", decoded_tokens_total_);
    metric("qwen3vl_decode_seconds_total", "counter", "Time spent in decode steps.", decode_seconds_total_);
    metric("qwen3vl_decode_passes_total", "counter",
           "Decode passes over the weights (decoded tokens / passes = mean batch).", decode_passes_total_);
    metric("qwen3vl_decode_batch_max", "gauge", "Most sequences decoded in one pass so far.", largest_decode_batch_);
  }
  return o.str();
}

}  // namespace qwen3vl::server
