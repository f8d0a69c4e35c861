#include "qwen3vl/runtime/sampler.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

Sampler::Sampler(const SamplingParams& p) : params_(p), rng_(p.seed) {
  check(std::isfinite(p.temperature) && p.temperature >= 0.0f,
        "sampling: temperature must be >= 0, got " + std::to_string(p.temperature));
  check(p.top_k >= 0, "sampling: top_k must be >= 0, got " + std::to_string(p.top_k));
  check(p.top_p > 0.0f && p.top_p <= 1.0f, "sampling: top_p must be in (0, 1], got " + std::to_string(p.top_p));
  check(p.min_p >= 0.0f && p.min_p <= 1.0f, "sampling: min_p must be in [0, 1], got " + std::to_string(p.min_p));
  check(p.repetition_penalty > 0.0f,
        "sampling: repetition_penalty must be > 0, got " + std::to_string(p.repetition_penalty));
  check(std::isfinite(p.presence_penalty), "sampling: presence_penalty must be finite");
}

void Sampler::add_prompt(std::span<const int32_t> ids) { seen_.insert(ids.begin(), ids.end()); }

void Sampler::accept(int32_t id) {
  seen_.insert(id);
  generated_.insert(id);
}

void Sampler::reset_history() {
  seen_.clear();
  generated_.clear();
}

void Sampler::apply_penalties(std::span<const float> logits) {
  scratch_.assign(logits.begin(), logits.end());
  const int64_t vocab = static_cast<int64_t>(scratch_.size());
  if (params_.repetition_penalty != 1.0f) {
    // Hugging Face semantics: shrink towards zero from either side, so a seen
    // token always becomes less likely.
    for (int32_t id : seen_) {
      if (id < 0 || id >= vocab) continue;
      float& x = scratch_[id];
      x = x > 0.0f ? x / params_.repetition_penalty : x * params_.repetition_penalty;
    }
  }
  if (params_.presence_penalty != 0.0f)
    for (int32_t id : generated_)
      if (id >= 0 && id < vocab) scratch_[id] -= params_.presence_penalty;
}

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int32_t Sampler::sample(std::span<const float> logits) {
  check(!logits.empty(), "sampling: empty logits");
  apply_penalties(logits);
  if (params_.temperature <= 0.0f || params_.top_k == 1) {
    // Greedy: first maximum, as torch.argmax.
    return static_cast<int32_t>(std::max_element(scratch_.begin(), scratch_.end()) - scratch_.begin());
  }
  return draw();
}

int32_t Sampler::draw() {
  const int64_t vocab = static_cast<int64_t>(scratch_.size());
  const double inv_t = 1.0 / params_.temperature;

  // Candidates sorted by logit, highest first. Only the prefix that top-k /
  // top-p can keep needs sorting, so grow it until it covers the mass asked for.
  candidates_.resize(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) candidates_[i] = {scratch_[i], static_cast<int32_t>(i)};
  auto higher = [](const std::pair<float, int32_t>& a, const std::pair<float, int32_t>& b) {
    return a.first > b.first || (a.first == b.first && a.second < b.second);
  };
  int64_t keep = params_.top_k > 0 ? std::min<int64_t>(params_.top_k, vocab) : vocab;
  if (keep < vocab) {
    std::nth_element(candidates_.begin(), candidates_.begin() + keep, candidates_.end(), higher);
    candidates_.resize(static_cast<size_t>(keep));
  }
  const float max_logit = std::max_element(candidates_.begin(), candidates_.end(), [&](auto& a, auto& b) {
                            return higher(b, a);
                          })->first;
  check(std::isfinite(max_logit), "sampling: the logits contain no finite maximum");

  // Softmax weights (unnormalised) of the kept candidates after temperature.
  double total = 0.0;
  for (const auto& c : candidates_) total += std::exp((static_cast<double>(c.first) - max_logit) * inv_t);

  // top-p: the smallest highest-first prefix whose mass reaches top_p.
  int64_t sorted = 0;
  if (params_.top_p < 1.0f) {
    const double target = params_.top_p * total;
    int64_t prefix = std::min<int64_t>(64, keep);
    double mass = 0.0;
    int64_t cut = -1;
    while (cut < 0) {
      std::partial_sort(candidates_.begin() + sorted, candidates_.begin() + prefix, candidates_.end(), higher);
      for (int64_t i = sorted; i < prefix; ++i) {
        mass += std::exp((static_cast<double>(candidates_[i].first) - max_logit) * inv_t);
        if (mass >= target) {
          cut = i + 1;
          break;
        }
      }
      sorted = prefix;
      if (cut < 0 && prefix == keep) cut = keep;  // rounding: keep all
      prefix = std::min<int64_t>(prefix * 4, keep);
    }
    keep = cut;
    candidates_.resize(static_cast<size_t>(keep));
  }

  // min-p: drop tokens less likely than min_p times the most likely one
  // (a threshold on the temperature-scaled logit, so no renormalisation needed).
  double weight_floor = 0.0;
  if (params_.min_p > 0.0f) weight_floor = params_.min_p;  // relative to the max weight exp(0) = 1

  double kept_total = 0.0;
  for (auto& c : candidates_) {
    const double w = std::exp((static_cast<double>(c.first) - max_logit) * inv_t);
    c.first = w >= weight_floor ? static_cast<float>(w) : 0.0f;
    kept_total += c.first;
  }
  double u = uniform() * kept_total;
  for (const auto& c : candidates_) {
    if (c.first <= 0.0f) continue;
    u -= c.first;
    if (u < 0.0) return c.second;
  }
  // Rounding left u >= 0: return the last candidate with weight.
  for (auto it = candidates_.rbegin(); it != candidates_.rend(); ++it)
    if (it->first > 0.0f) return it->second;
  return candidates_.front().second;
}

}  // namespace qwen3vl
