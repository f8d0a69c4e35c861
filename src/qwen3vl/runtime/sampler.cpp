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
  check(std::isfinite(p.frequency_penalty), "sampling: frequency_penalty must be finite");
}

void Sampler::add_prompt(std::span<const int32_t> ids) { seen_.insert(ids.begin(), ids.end()); }

void Sampler::accept(int32_t id) {
  seen_.insert(id);
  ++generated_[id];
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
  if (params_.presence_penalty != 0.0f || params_.frequency_penalty != 0.0f)
    for (const auto& [id, count] : generated_)
      if (id >= 0 && id < vocab) scratch_[id] -= params_.presence_penalty + params_.frequency_penalty * count;
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

namespace {

using Candidate = std::pair<float, int32_t>;  // (logit, later weight; token id)

// Strict order "more likely first"; ties go to the lower id so results do not
// depend on the selection algorithm.
bool more_likely(const Candidate& a, const Candidate& b) {
  return a.first > b.first || (a.first == b.first && a.second < b.second);
}

// The k most likely of `logits`. Small k (the usual 20-100) uses one pass with a
// k-element heap, much cheaper than partitioning the whole vocabulary.
void top_k_candidates(const std::vector<float>& logits, int64_t k, std::vector<Candidate>& out) {
  const int64_t vocab = static_cast<int64_t>(logits.size());
  out.clear();
  if (k <= 1024) {
    // Min-heap under more_likely: front() is the least likely kept candidate.
    for (int64_t i = 0; i < vocab; ++i) {
      const Candidate c{logits[i], static_cast<int32_t>(i)};
      if (static_cast<int64_t>(out.size()) < k) {
        out.push_back(c);
        std::push_heap(out.begin(), out.end(), more_likely);
      } else if (more_likely(c, out.front())) {
        std::pop_heap(out.begin(), out.end(), more_likely);
        out.back() = c;
        std::push_heap(out.begin(), out.end(), more_likely);
      }
    }
    return;
  }
  out.resize(static_cast<size_t>(vocab));
  for (int64_t i = 0; i < vocab; ++i) out[i] = {logits[i], static_cast<int32_t>(i)};
  if (k < vocab) {
    std::nth_element(out.begin(), out.begin() + k, out.end(), more_likely);
    out.resize(static_cast<size_t>(k));
  }
}

// Keeps the smallest most-likely-first set whose weight reaches `target`
// (Hugging Face top-p: a token stays if the mass strictly before it is below
// top_p). A quickselect on mass: partition around a pivot, keep the side that
// holds the crossing point, so the cost is linear and nothing large is sorted.
void keep_top_p(std::vector<Candidate>& c, double target) {
  // Invariant: c[0, lo) are more likely than everything in c[lo, hi), their
  // mass `before` is below target, and the cut lies in (lo, hi].
  int64_t lo = 0, hi = static_cast<int64_t>(c.size());
  double before = 0.0;
  while (hi - lo > 32) {
    // Median of three as pivot, moved to c[hi-1].
    const int64_t mid = lo + (hi - lo) / 2;
    if (more_likely(c[mid], c[lo])) std::swap(c[mid], c[lo]);
    if (more_likely(c[hi - 1], c[lo])) std::swap(c[hi - 1], c[lo]);
    if (more_likely(c[mid], c[hi - 1])) std::swap(c[mid], c[hi - 1]);
    const Candidate pivot = c[hi - 1];
    const auto split = std::partition(c.begin() + lo, c.begin() + hi - 1,
                                      [&](const Candidate& x) { return more_likely(x, pivot); });
    const int64_t m = split - c.begin();
    std::swap(c[m], c[hi - 1]);  // pivot at m: [lo, m) above it, (m, hi) below
    double upper = 0.0;
    for (int64_t i = lo; i < m; ++i) upper += c[i].first;
    if (before + upper >= target) {
      hi = m;
    } else if (before + upper + pivot.first >= target) {
      c.resize(static_cast<size_t>(m + 1));
      return;
    } else {
      before += upper + pivot.first;
      lo = m + 1;
    }
  }
  std::sort(c.begin() + lo, c.begin() + hi, more_likely);
  for (int64_t i = lo; i < hi; ++i) {
    before += c[i].first;
    if (before >= target) {
      c.resize(static_cast<size_t>(i + 1));
      return;
    }
  }
  c.resize(static_cast<size_t>(hi));  // rounding between the two sums: keep the range
}

}  // namespace

void Sampler::filter() {
  const int64_t vocab = static_cast<int64_t>(scratch_.size());
  const int64_t k = params_.top_k > 0 ? std::min<int64_t>(params_.top_k, vocab) : vocab;
  const float inv_t = 1.0f / params_.temperature;
  if (k == vocab && params_.top_p < 1.0f) {
    top_p_over_vocabulary(inv_t);
  } else {
    top_k_candidates(scratch_, k, candidates_);
    float max_logit = -INFINITY;
    for (const auto& c : candidates_) max_logit = std::max(max_logit, c.first);
    check(std::isfinite(max_logit), "sampling: the logits contain no finite maximum");
    // Temperature-scaled softmax weights relative to the best token (weight
    // 1); exp is monotonic, so the order of candidates is unchanged.
    double total = 0.0;
    for (auto& c : candidates_) {
      c.first = std::exp((c.first - max_logit) * inv_t);
      total += c.first;
    }
    if (params_.top_p < 1.0f) keep_top_p(candidates_, params_.top_p * total);
  }
  // min-p: drop tokens whose probability is below min_p times the best one's,
  // i.e. whose relative weight is below min_p.
  if (params_.min_p > 0.0f)
    std::erase_if(candidates_, [&](const Candidate& c) { return c.first < params_.min_p; });
}

void Sampler::top_p_over_vocabulary(float inv_t) {
  // Bucket every token by its scaled logit (width 1/16, so a bucket spans a
  // weight ratio of at most e^(1/16)), sum the mass per bucket, and find the
  // bucket where the running mass crosses top_p. Tokens in earlier buckets
  // are all kept, later ones all dropped; only the crossing bucket is sorted.
  // Two branch-light passes instead of partitioning 152k candidates.
  constexpr int kPerUnit = 16, kBuckets = 64 * kPerUnit;  // weights below e^-64 share the last bucket
  const int64_t vocab = static_cast<int64_t>(scratch_.size());
  const float max_logit = *std::max_element(scratch_.begin(), scratch_.end());
  check(std::isfinite(max_logit), "sampling: the logits contain no finite maximum");
  weights_.resize(static_cast<size_t>(vocab));
  buckets_.resize(static_cast<size_t>(vocab));
  std::vector<double> mass(kBuckets, 0.0);
  for (int64_t i = 0; i < vocab; ++i) {
    const float scaled = (scratch_[i] - max_logit) * inv_t;  // <= 0
    const float w = std::exp(scaled);
    const float t = -scaled * kPerUnit;
    const int b = t < static_cast<float>(kBuckets - 1) ? static_cast<int>(t) : kBuckets - 1;  // NaN/-inf: last
    weights_[i] = w;
    buckets_[i] = static_cast<uint16_t>(b);
    mass[b] += w;
  }
  double total = 0.0;
  for (double m : mass) total += m;
  const double target = params_.top_p * total;
  int crossing = kBuckets - 1;
  double before = 0.0;
  for (int b = 0; b < kBuckets; ++b) {
    if (before + mass[b] >= target) {
      crossing = b;
      break;
    }
    before += mass[b];
  }
  candidates_.clear();
  std::vector<Candidate> edge;  // (logit, id) of the crossing bucket
  for (int64_t i = 0; i < vocab; ++i) {
    if (buckets_[i] < crossing) candidates_.push_back({weights_[i], static_cast<int32_t>(i)});
    else if (buckets_[i] == crossing) edge.push_back({scratch_[i], static_cast<int32_t>(i)});
  }
  std::sort(edge.begin(), edge.end(), more_likely);
  for (const Candidate& c : edge) {
    if (before >= target) break;  // a token stays while the mass before it is below top_p
    before += weights_[c.second];
    candidates_.push_back({weights_[c.second], c.second});
  }
  if (candidates_.empty() && !edge.empty()) candidates_.push_back({1.0f, edge.front().second});
}

std::vector<int32_t> Sampler::allowed_tokens(std::span<const float> logits) {
  check(!logits.empty(), "sampling: empty logits");
  apply_penalties(logits);
  if (params_.temperature <= 0.0f || params_.top_k == 1)
    return {static_cast<int32_t>(std::max_element(scratch_.begin(), scratch_.end()) - scratch_.begin())};
  filter();
  std::vector<int32_t> ids;
  for (const auto& c : candidates_) ids.push_back(c.second);
  std::sort(ids.begin(), ids.end());
  return ids;
}

int32_t Sampler::draw() {
  filter();
  double total = 0.0;
  for (const auto& c : candidates_) total += c.first;
  double u = uniform() * total;
  for (const auto& c : candidates_) {
    u -= c.first;
    if (u < 0.0) return c.second;
  }
  return candidates_.back().second;  // rounding left u >= 0
}

}  // namespace qwen3vl
