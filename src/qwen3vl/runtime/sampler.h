// Chooses the next token from the logits. Penalties first (Hugging Face
// repetition penalty over prompt + output, OpenAI-style presence and
// frequency penalties over the output), then either argmax (temperature 0) or a seeded draw from
// the distribution after temperature, top-k, top-p and min-p filtering.
#pragma once
#include <cstdint>
#include <random>
#include <span>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace qwen3vl {

struct SamplingParams {
  float temperature = 0.0f;        // <= 0: greedy
  int top_k = 0;                   // 0: off
  float top_p = 1.0f;              // 1: off
  float min_p = 0.0f;              // 0: off; keep p >= min_p * max p
  float repetition_penalty = 1.0f; // 1: off
  float presence_penalty = 0.0f;   // 0: off; subtracted once from every generated token
  float frequency_penalty = 0.0f;  // 0: off; subtracted once per time a token was generated
  uint64_t seed = 0;
};

class Sampler {
 public:
  // Throws Error for out-of-range parameters.
  explicit Sampler(const SamplingParams& params);

  const SamplingParams& params() const { return params_; }

  // Tokens of the prompt (they count for the repetition penalty only).
  void add_prompt(std::span<const int32_t> ids);
  // A generated token (counts for every penalty).
  void accept(int32_t id);
  // Forgets prompt and output; the RNG keeps its state.
  void reset_history();

  // Picks a token; does not call accept().
  int32_t sample(std::span<const float> logits);

  // The tokens sample() could return for these logits (after penalties and
  // filters), sorted by id. For tests and diagnostics.
  std::vector<int32_t> allowed_tokens(std::span<const float> logits);

 private:
  // Logits after penalties (copy into scratch_).
  void apply_penalties(std::span<const float> logits);
  // Leaves in candidates_ the tokens that survive top-k/top-p/min-p, each with
  // its unnormalised probability.
  void filter();
  // top-p over the whole vocabulary (no top-k) without sorting it.
  void top_p_over_vocabulary(float inv_t);
  int32_t draw();
  double uniform();  // [0, 1)

  SamplingParams params_;
  std::mt19937_64 rng_;
  std::unordered_set<int32_t> seen_;       // prompt + output
  std::unordered_map<int32_t, int> generated_;  // output: token -> times generated
  std::vector<float> scratch_;
  std::vector<std::pair<float, int32_t>> candidates_;
  std::vector<float> weights_;     // top_p_over_vocabulary scratch
  std::vector<uint16_t> buckets_;
};

}  // namespace qwen3vl
