// Which experts a Mixture-of-Experts layer sends each token to, and with what
// weight, exactly as the reference routes: probabilities = softmax of the
// router logits in float32; the k most probable experts in descending order
// of probability (ties: the lower expert id first); their probabilities
// divided by the sum of the k (the reference always renormalises, whatever
// the config's norm_topk_prob says).
#pragma once
#include <cstdint>

namespace qwen3vl {

// logits: [n, experts]; ids and weights: [n, k], row-major.
void route_top_k(const float* logits, int64_t n, int experts, int k, int32_t* ids, float* weights);

}  // namespace qwen3vl
