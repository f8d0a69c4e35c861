#include "qwen3vl/runtime/expert_usage_stats.h"

#include <algorithm>

#include "qwen3vl/model/moe_mlp.h"

namespace qwen3vl {

void ExpertUsageStats::Range::add(double v) {
  min = n == 0 ? v : std::min(min, v);
  max = n == 0 ? v : std::max(max, v);
  sum += v;
  ++n;
}

Json ExpertUsageStats::Range::json() const {
  if (n == 0) return nullptr;
  return {{"min", min}, {"mean", sum / static_cast<double>(n)}, {"max", max}};
}

ExpertUsageStats::ExpertUsageStats(const TextDecoder& decoder) {
  for (int l = 0; l < decoder.num_layers(); ++l) {
    const MoeMlp* moe = decoder.moe_layer(l);
    if (!moe) continue;
    moe_layers_.push_back(l);
    expert_bytes_.push_back(moe->gate_up(0).bytes() + moe->down(0).bytes());
    experts_ = moe->num_experts();
    top_k_ = moe->top_k();
  }
  run_counts_.assign(moe_layers_.size(), std::vector<int64_t>(static_cast<size_t>(experts_), 0));
  prefill_counts_ = run_counts_;
}

void ExpertUsageStats::take_prefill(DecoderWorkspace& ws) {
  const auto& usage = ws.expert_usage();
  for (size_t i = 0; i < moe_layers_.size(); ++i)
    if (static_cast<size_t>(moe_layers_[i]) < usage.size()) {
      const auto& counts = usage[static_cast<size_t>(moe_layers_[i])];
      for (size_t e = 0; e < counts.size() && e < prefill_counts_[i].size(); ++e) prefill_counts_[i][e] += counts[e];
    }
  ws.reset_expert_usage();
}

void ExpertUsageStats::take_decode_step(DecoderWorkspace& ws) {
  const auto& usage = ws.expert_usage();
  double bytes = 0;
  for (size_t i = 0; i < moe_layers_.size(); ++i) {
    int64_t distinct = 0;
    if (static_cast<size_t>(moe_layers_[i]) < usage.size()) {
      const auto& counts = usage[static_cast<size_t>(moe_layers_[i])];
      for (size_t e = 0; e < counts.size() && e < run_counts_[i].size(); ++e) {
        distinct += counts[e] > 0;
        run_counts_[i][e] += counts[e];
      }
    }
    step_distinct_.add(static_cast<double>(distinct));
    bytes += static_cast<double>(distinct) * static_cast<double>(expert_bytes_[i]);
  }
  step_bytes_.add(bytes);
  ++steps_;
  ws.reset_expert_usage();
}

Json ExpertUsageStats::summary() const {
  if (!active()) return nullptr;
  auto distinct_per_layer = [](const std::vector<std::vector<int64_t>>& counts) {
    Range r;
    for (const auto& layer : counts)
      r.add(static_cast<double>(std::count_if(layer.begin(), layer.end(), [](int64_t c) { return c > 0; })));
    return r;
  };
  int64_t prefill_max = 0, prefill_total = 0;
  for (const auto& layer : prefill_counts_)
    for (int64_t c : layer) prefill_max = std::max(prefill_max, c), prefill_total += c;
  Json j;
  j["moe_layers"] = moe_layers_.size();
  j["experts"] = experts_;
  j["top_k"] = top_k_;
  j["expert_bytes"] = expert_bytes_.empty() ? 0 : expert_bytes_[0];
  j["prefill"] = {
      {"tokens_per_expert_max", prefill_max},
      {"tokens_per_expert_mean",
       static_cast<double>(prefill_total) / static_cast<double>(moe_layers_.size() * static_cast<size_t>(experts_))},
      {"distinct_experts_per_layer", distinct_per_layer(prefill_counts_).json()}};
  j["decode"] = {{"steps", steps_},
                 {"distinct_experts_per_layer_step", step_distinct_.json()},
                 {"expert_bytes_per_step", step_bytes_.json()},
                 {"distinct_experts_per_layer_run", steps_ ? distinct_per_layer(run_counts_).json() : Json(nullptr)}};
  return j;
}

}  // namespace qwen3vl
