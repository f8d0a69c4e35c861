// `qwen3vl bench`: one run that measures everything the speed targets are
// stated in, so figures are ratios taken on the same machine at the same time.
#pragma once
#include <cstddef>
#include <functional>
#include <string>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

struct BenchOptions {
  std::string model;          // checkpoint dir or model file; empty: embedded default
  std::string weights = "auto";
  int threads = 0;
  int64_t context_length = 4096;
  int prompt_tokens = 512;
  int decode_tokens = 128;
  bool vision = true;
  bool video = true;          // the video line (needs vision)
  std::string kv_cache;       // empty: the library default
  size_t probe_bytes = size_t(1) << 30;  // bandwidth probe buffer
  std::function<void(const std::string&)> log;  // progress lines
};

// Returns one object with membw_gbps (and membw_method, how the probe
// measured it), weight_bytes_per_token, decode_tps, decode_stream_gbps (the
// bytes per second decode actually read), decode_limit_tps,
// decode_fraction_of_limit (null, with decode_exceeds_probe true and a
// "note", if decode outran the probe), prefill_tps, vision_ms_448,
// vision_ms_1000x750, ttft_ms_1000x750, for a 10-second 640x360 clip at the
// default sampling video_decode_ms, video_preprocess_ms, video_vision_ms,
// video_tokens and video_ttft_ms, load_ms, peak_rss_bytes and details. For a
// Mixture-of-Experts model weight_bytes_per_token counts the router and the
// top-k experts of each MoE layer, and expert_usage holds what the prompt and
// each decode step really read of the experts (runtime/expert_usage_stats.h).
Json run_benchmark(const BenchOptions& options);

// Decode judged against the probed bandwidth: membw_gbps, decode_stream_gbps
// (weight bytes per token x tokens per second), decode_limit_tps,
// decode_exceeds_probe and decode_fraction_of_limit (null, with a "note"
// saying so, when decode streamed more than the probe read).
Json decode_against_bandwidth(double weight_bytes_per_token, double decode_tps, double probe_gbps);

}  // namespace qwen3vl
