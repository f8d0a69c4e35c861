// Every tensor a Qwen3-VL checkpoint holds, with its Hugging Face name and the
// shape the config implies. The loader validates against it and
// make-random-model writes it.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "qwen3vl/model/model_config.h"

namespace qwen3vl {

// Router: a MoE layer's expert gate [num_experts, hidden] (kept in high
// precision). Experts: a MoE layer's fused expert weights, 3-D
// [num_experts, in, out] (applied as x @ W[e]; no ".weight" suffix).
enum class TensorRole { Embedding, Head, Attention, Mlp, Norm, Bias, Vision, VisionEmbedding, Router, Experts };

struct TensorSpec {
  std::string name;
  std::vector<int64_t> shape;
  TensorRole role;
};

std::vector<TensorSpec> qwen3vl_tensor_specs(const ModelConfig& c);

}  // namespace qwen3vl
