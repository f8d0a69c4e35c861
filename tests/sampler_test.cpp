#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/runtime/sampler.h"

using namespace qwen3vl;

namespace {

// Logits whose softmax is exactly `probs` (at temperature 1).
std::vector<float> logits_for(const std::vector<double>& probs) {
  std::vector<float> l;
  for (double p : probs) l.push_back(static_cast<float>(std::log(p)));
  return l;
}

std::map<int32_t, int> histogram(Sampler& s, const std::vector<float>& logits, int draws) {
  std::map<int32_t, int> h;
  for (int i = 0; i < draws; ++i) ++h[s.sample(logits)];
  return h;
}

}  // namespace

TEST(Sampler, GreedyPicksTheFirstMaximum) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.sample(std::vector<float>{0.1f, 3.0f, -2.0f, 3.0f}), 1);
}

TEST(Sampler, TopKOneEqualsGreedyOnABigVocabulary) {
  std::mt19937 gen(7);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> logits(151936);
  for (float& x : logits) x = nd(gen);
  SamplingParams p;
  p.temperature = 1.5f;
  p.top_k = 1;
  p.seed = 3;
  Sampler top1(p);
  Sampler greedy(SamplingParams{});
  for (int i = 0; i < 5; ++i) EXPECT_EQ(top1.sample(logits), greedy.sample(logits));
}

TEST(Sampler, TopPKeepsTheSmallestPrefixReachingTheMass) {
  // probs 0.5, 0.3, 0.15, 0.05: top_p 0.55 and 0.79 keep {0, 1} (0.5 < top_p <= 0.8).
  // (Exactly 0.8 is a rounding knife-edge in any float implementation.)
  const auto logits = logits_for({0.5, 0.3, 0.15, 0.05});
  for (float top_p : {0.55f, 0.79f}) {
    SamplingParams p;
    p.temperature = 1.0f;
    p.top_p = top_p;
    p.seed = 11;
    Sampler s(p);
    const auto h = histogram(s, logits, 4000);
    EXPECT_EQ(h.count(2), 0u) << top_p;
    EXPECT_EQ(h.count(3), 0u) << top_p;
    // Renormalised: token 0 has 0.5/0.8 = 0.625. 4000 draws: sd ~31, allow 6 sd.
    EXPECT_NEAR(h.at(0), 0.625 * 4000, 190) << top_p;
  }
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.81f;  // now token 2 is needed
  Sampler s(p);
  EXPECT_GT(histogram(s, logits, 4000).count(2), 0u);
}

TEST(Sampler, MinPDropsTokensBelowTheFractionOfTheBest) {
  // Max prob 0.4; min_p 0.45 -> threshold 0.18: keep 0.4, 0.3, 0.2; drop 0.1.
  const auto logits = logits_for({0.2, 0.4, 0.1, 0.3});
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.45f;
  p.seed = 5;
  Sampler s(p);
  const auto h = histogram(s, logits, 3000);
  EXPECT_EQ(h.count(2), 0u);
  EXPECT_EQ(h.size(), 3u);
}

TEST(Sampler, RepetitionPenaltyArithmetic) {
  // Seen tokens: positive logits divided, negative multiplied (HF semantics).
  // Token 0 (seen, 4.0) -> 2.0; token 1 (unseen, 3.0) wins greedy.
  SamplingParams p;
  p.repetition_penalty = 2.0f;
  Sampler s(p);
  s.add_prompt(std::vector<int32_t>{0});
  EXPECT_EQ(s.sample(std::vector<float>{4.0f, 3.0f, -1.0f}), 1);
  // Negative: token 2 at -1.0 seen -> -2.0, below token 0 unseen at -1.5.
  Sampler t(p);
  t.add_prompt(std::vector<int32_t>{2});
  EXPECT_EQ(t.sample(std::vector<float>{-1.5f, -3.0f, -1.0f}), 0);
  // Without the penalty the seen token 2 would win.
  Sampler u(SamplingParams{});
  EXPECT_EQ(u.sample(std::vector<float>{-1.5f, -3.0f, -1.0f}), 2);
}

TEST(Sampler, PresencePenaltyOnlyCountsGeneratedTokens) {
  SamplingParams p;
  p.presence_penalty = 1.0f;
  Sampler s(p);
  s.add_prompt(std::vector<int32_t>{0});  // prompt tokens are not penalised
  const std::vector<float> logits = {2.0f, 1.5f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // 2.0 - 1.0 = 1.0 < 1.5
  EXPECT_EQ(s.sample(logits), 1);
}

TEST(Sampler, FrequencyPenaltyGrowsWithEachOccurrence) {
  SamplingParams p;
  p.frequency_penalty = 0.3f;
  Sampler s(p);
  s.add_prompt(std::vector<int32_t>{0, 0, 0});  // prompt tokens are not counted
  const std::vector<float> logits = {2.0f, 1.5f};
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // 2.0 - 0.3 = 1.7 > 1.5: still token 0
  EXPECT_EQ(s.sample(logits), 0);
  s.accept(0);  // 2.0 - 0.6 = 1.4 < 1.5
  EXPECT_EQ(s.sample(logits), 1);
  s.accept(1);  // 1.5 - 0.3 = 1.2 < 1.4: back to 0
  EXPECT_EQ(s.sample(logits), 0);
}

TEST(Sampler, SameSeedSameTokens) {
  std::vector<float> logits(1000);
  for (size_t i = 0; i < logits.size(); ++i) logits[i] = std::sin(static_cast<float>(i)) * 4.0f;
  SamplingParams p;
  p.temperature = 0.9f;
  p.top_k = 50;
  p.top_p = 0.9f;
  p.seed = 1234;
  Sampler a(p), b(p);
  std::vector<int32_t> ta, tb;
  for (int i = 0; i < 50; ++i) {
    ta.push_back(a.sample(logits));
    tb.push_back(b.sample(logits));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_GT(std::set<int32_t>(ta.begin(), ta.end()).size(), 1u);  // it does sample
}

TEST(Sampler, TemperatureScalesTheFrequencies) {
  // logits log(0.6), log(0.3), log(0.1) at temperature 2: p ∝ sqrt(probs) =
  // 0.7746, 0.5477, 0.3162 -> 0.4609, 0.3259, 0.1882. Fixed seed, 20000 draws:
  // sd <= 0.0036; a 0.02 tolerance is > 5 sd.
  const auto logits = logits_for({0.6, 0.3, 0.1});
  SamplingParams p;
  p.temperature = 2.0f;
  p.seed = 99;
  Sampler s(p);
  const int n = 20000;
  const auto h = histogram(s, logits, n);
  const double z = std::sqrt(0.6) + std::sqrt(0.3) + std::sqrt(0.1);
  EXPECT_NEAR(h.at(0) / double(n), std::sqrt(0.6) / z, 0.02);
  EXPECT_NEAR(h.at(1) / double(n), std::sqrt(0.3) / z, 0.02);
  EXPECT_NEAR(h.at(2) / double(n), std::sqrt(0.1) / z, 0.02);
}

TEST(Sampler, TopPOnALargeVocabularyKeepsOnlyTheHead) {
  // 151936 tokens: 3 strong ones holding ~0.9 of the mass, the rest flat.
  std::vector<float> logits(151936, 0.0f);
  const double rest = 151933.0;
  const float strong = static_cast<float>(std::log(0.3 * rest / 0.1));  // each strong token: 0.3
  logits[10] = logits[20000] = logits[150000] = strong;
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.85f;
  p.seed = 8;
  Sampler s(p);
  for (int i = 0; i < 50; ++i) {
    const int32_t t = s.sample(logits);
    EXPECT_TRUE(t == 10 || t == 20000 || t == 150000) << t;
  }
}

TEST(Sampler, TopKRenormalisesOverTheKeptTokens) {
  // probs 0.4, 0.1, 0.3, 0.2 with top_k 2: only tokens 0 and 2, in ratio 4:3.
  const auto logits = logits_for({0.4, 0.1, 0.3, 0.2});
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_k = 2;
  p.seed = 21;
  Sampler s(p);
  const int n = 7000;
  const auto h = histogram(s, logits, n);
  EXPECT_EQ(h.size(), 2u);
  // sd of the count: sqrt(7000 * 4/7 * 3/7) ~ 41; allow 6 sd.
  EXPECT_NEAR(h.at(0), n * 4.0 / 7.0, 250);
}

// Plain reference for the filters: sort everything, then apply the
// definitions one after another in double precision.
std::vector<int32_t> reference_allowed(const std::vector<float>& logits, const SamplingParams& p) {
  std::vector<int32_t> order(logits.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int32_t>(i);
  std::sort(order.begin(), order.end(), [&](int32_t a, int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  });
  if (p.top_k > 0 && static_cast<size_t>(p.top_k) < order.size()) order.resize(p.top_k);
  std::vector<double> w;
  for (int32_t id : order) w.push_back(std::exp((logits[id] - logits[order[0]]) / double(p.temperature)));
  double total = 0.0;
  for (double x : w) total += x;
  std::vector<int32_t> kept;
  double before = 0.0;
  for (size_t i = 0; i < order.size(); ++i) {
    if (p.top_p < 1.0f && before >= p.top_p * total) break;
    before += w[i];
    if (w[i] >= p.min_p) kept.push_back(order[i]);  // w[0] = 1 is the best
  }
  std::sort(kept.begin(), kept.end());
  return kept;
}

TEST(Sampler, FiltersMatchAPlainSortingReference) {
  std::mt19937 gen(2024);
  std::normal_distribution<float> nd(0.0f, 2.5f);
  for (int trial = 0; trial < 40; ++trial) {
    std::vector<float> logits(trial % 2 ? 60000 : 3001);
    for (float& x : logits) x = nd(gen);
    SamplingParams p;
    p.temperature = 0.3f + 0.1f * (trial % 10);
    p.top_k = trial % 3 == 0 ? 0 : (trial % 3 == 1 ? 40 : 2000);
    p.top_p = trial % 4 == 0 ? 1.0f : 0.5f + 0.1f * (trial % 5);
    p.min_p = trial % 5 == 0 ? 0.05f : 0.0f;
    Sampler s(p);
    EXPECT_EQ(s.allowed_tokens(logits), reference_allowed(logits, p)) << "trial " << trial;
  }
}

TEST(Sampler, RejectsInvalidParameters) {
  SamplingParams p;
  p.top_p = 0.0f;
  EXPECT_THROW(Sampler{p}, Error);
  p = {};
  p.temperature = -1.0f;
  EXPECT_THROW(Sampler{p}, Error);
  p = {};
  p.repetition_penalty = 0.0f;
  EXPECT_THROW(Sampler{p}, Error);
}
