// The sparse Mixture-of-Experts MLP of a qwen3_vl_moe decoder layer, computed
// as the reference does: router logits = x·Gᵀ, routing (model/moe_routing.h),
// each selected expert's SwiGLU down(silu(gate(x)) * up(x)), and the
// weighted sum over the selected experts in ascending expert id (the
// reference sums a dense [experts, tokens] product over the expert axis).
//
// Only the experts a token selects are computed. The tokens of a chunk are
// grouped by expert, so each expert's weights are read once per chunk and
// applied to all its tokens in one matmul (one int8 GEMM per expert with the
// quantized formats). The router is used as stored (never quantized): the
// routing decisions stay those of the float32 path.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/weights/weight_source.h"

namespace qwen3vl {

class MoeMlp {
 public:
  // Per-call buffers, sized for the largest chunk seen; one per concurrent
  // user of the (shared, read-only) weights. After forward() the routing of
  // the chunk's tokens stays readable here.
  struct Scratch {
    std::vector<float> router_logits;   // [n, experts]
    std::vector<int32_t> topk_ids;      // [n, k], descending probability
    std::vector<float> topk_weights;    // [n, k], renormalised
    std::vector<float> out;             // [n, hidden]
    // The (token, expert) assignments grouped by expert (ascending), tokens
    // ascending within an expert: assignment a = group_first[e] + j.
    std::vector<int32_t> group_first, group_tokens;
    std::vector<float> group_weights;
    std::vector<float> x, gate_up, act, y;  // per assignment: input row, intermediates, expert output
  };

  // Loads the router as stored and the experts in the format `options` asks.
  MoeMlp(const TextConfig& config, const WeightSource& source, const MoeMlpSpec& spec, const WeightOptions& options);

  // scratch.out[n, hidden] = MoE(x[n, hidden]); returns scratch.out.data().
  // `rowwise` (the rows are the next tokens of different sequences, decoded
  // together): every row's result is bit-identical to that row alone, while
  // an expert several rows selected is still read once for all of them.
  const float* forward(const float* x, int64_t n, Scratch& scratch, ThreadPool& pool, bool rowwise = false) const;

  int num_experts() const { return experts_; }
  int top_k() const { return top_k_; }
  // Weight bytes one token reads: the router and top_k experts' matrices.
  size_t bytes_per_token() const;
  // Every expert's bytes plus the router's.
  size_t total_bytes() const;
  const WeightMatrix& gate_up(int e) const { return gate_up_[e]; }  // [2 * moe_intermediate, hidden]
  const WeightMatrix& down(int e) const { return down_[e]; }        // [hidden, moe_intermediate]

 private:
  int64_t hidden_, inter_;
  int experts_, top_k_;
  WeightMatrix router_;                // [experts, hidden]
  std::vector<WeightMatrix> gate_up_;  // per expert: gate rows, then up rows
  std::vector<WeightMatrix> down_;
};

}  // namespace qwen3vl
