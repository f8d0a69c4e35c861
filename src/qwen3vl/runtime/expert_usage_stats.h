// What a Mixture-of-Experts decoder's tokens read of their experts, for
// bench: per decode step, how many distinct experts each MoE layer read and
// their bytes (one sequence reads its top-k experts per layer; the bandwidth
// limit assumes exactly that), over the decode run how many of a layer's
// experts were touched at all, and how the prompt's tokens spread over the
// experts (prefill runs one GEMM per expert with tokens).
#pragma once
#include <cstdint>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/model/text_decoder.h"

namespace qwen3vl {

class ExpertUsageStats {
 public:
  explicit ExpertUsageStats(const TextDecoder& decoder);

  // False for a dense decoder (nothing to count).
  bool active() const { return !moe_layers_.empty(); }
  // The workspace's usage since its last reset is the prompt's; resets it.
  void take_prefill(DecoderWorkspace& ws);
  // The workspace's usage since its last reset is one decode step; resets it.
  void take_decode_step(DecoderWorkspace& ws);

  // {moe_layers, experts, top_k, expert_bytes, prefill: {tokens_per_expert_max,
  // tokens_per_expert_mean, distinct_experts_per_layer: {min, mean, max}},
  // decode: {steps, distinct_experts_per_layer_step: {min, mean, max},
  // expert_bytes_per_step: {min, mean, max}, distinct_experts_per_layer_run:
  // {min, mean, max}}}; null when not active().
  Json summary() const;

 private:
  struct Range {
    double min = 0, max = 0, sum = 0;
    int64_t n = 0;
    void add(double v);
    Json json() const;
  };
  std::vector<int> moe_layers_;          // indices of the MoE layers
  std::vector<size_t> expert_bytes_;     // per MoE layer: one expert's matrices
  int experts_ = 0, top_k_ = 0;
  std::vector<std::vector<int64_t>> prefill_counts_, run_counts_;  // per MoE layer, per expert
  Range step_distinct_, step_bytes_;
  int64_t steps_ = 0;
};

}  // namespace qwen3vl
