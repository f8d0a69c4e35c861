// Cost of choosing one token over the full 151936-entry Qwen vocabulary.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "qwen3vl/runtime/sampler.h"

using namespace qwen3vl;

namespace {

std::vector<float> random_logits() {
  std::mt19937 gen(3);
  std::normal_distribution<float> nd(0.0f, 3.0f);
  std::vector<float> v(151936);
  for (float& x : v) x = nd(gen);
  return v;
}

void run(benchmark::State& state, const SamplingParams& p) {
  const std::vector<float> logits = random_logits();
  Sampler s(p);
  std::vector<int32_t> prompt(2000);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>(i * 37 % 151936);
  s.add_prompt(prompt);
  for (auto _ : state) benchmark::DoNotOptimize(s.sample(logits));
}

void BM_Greedy(benchmark::State& state) { run(state, SamplingParams{}); }
BENCHMARK(BM_Greedy)->Unit(benchmark::kMicrosecond);

void BM_QwenDefaults(benchmark::State& state) {
  SamplingParams p;  // the checkpoints' generation_config: t 0.7, top-k 20, top-p 0.8, rep 1.05
  p.temperature = 0.7f;
  p.top_k = 20;
  p.top_p = 0.8f;
  p.repetition_penalty = 1.05f;
  run(state, p);
}
BENCHMARK(BM_QwenDefaults)->Unit(benchmark::kMicrosecond);

void BM_TopPOnly(benchmark::State& state) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.95f;
  run(state, p);
}
BENCHMARK(BM_TopPOnly)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
