#include "qwen3vl/model/tensor_specs.h"

namespace qwen3vl {

std::vector<TensorSpec> qwen3vl_tensor_specs(const ModelConfig& c) {
  std::vector<TensorSpec> s;
  const auto& t = c.text;
  const int64_t H = t.hidden_size, Q = int64_t(t.num_heads) * t.head_dim, KV = int64_t(t.num_kv_heads) * t.head_dim;
  const std::string lm = "model.language_model.";
  s.push_back({lm + "embed_tokens.weight", {t.vocab_size, H}, TensorRole::Embedding});
  for (int i = 0; i < t.num_layers; ++i) {
    const std::string p = lm + "layers." + std::to_string(i) + ".";
    s.push_back({p + "input_layernorm.weight", {H}, TensorRole::Norm});
    s.push_back({p + "self_attn.q_proj.weight", {Q, H}, TensorRole::Attention});
    s.push_back({p + "self_attn.k_proj.weight", {KV, H}, TensorRole::Attention});
    s.push_back({p + "self_attn.v_proj.weight", {KV, H}, TensorRole::Attention});
    s.push_back({p + "self_attn.o_proj.weight", {H, Q}, TensorRole::Attention});
    s.push_back({p + "self_attn.q_norm.weight", {t.head_dim}, TensorRole::Norm});
    s.push_back({p + "self_attn.k_norm.weight", {t.head_dim}, TensorRole::Norm});
    s.push_back({p + "post_attention_layernorm.weight", {H}, TensorRole::Norm});
    if (t.is_moe_layer(i)) {
      const int64_t E = t.num_experts, I = t.moe_intermediate_size;
      s.push_back({p + "mlp.gate.weight", {E, H}, TensorRole::Router});
      s.push_back({p + "mlp.experts.gate_up_proj", {E, H, 2 * I}, TensorRole::Experts});
      s.push_back({p + "mlp.experts.down_proj", {E, I, H}, TensorRole::Experts});
    } else {
      s.push_back({p + "mlp.gate_proj.weight", {t.intermediate_size, H}, TensorRole::Mlp});
      s.push_back({p + "mlp.up_proj.weight", {t.intermediate_size, H}, TensorRole::Mlp});
      s.push_back({p + "mlp.down_proj.weight", {H, t.intermediate_size}, TensorRole::Mlp});
    }
  }
  s.push_back({lm + "norm.weight", {H}, TensorRole::Norm});
  if (!c.tie_word_embeddings) s.push_back({"lm_head.weight", {t.vocab_size, H}, TensorRole::Head});

  const auto& v = c.vision;
  const int64_t V = v.hidden_size, M = int64_t(V) * v.spatial_merge_size * v.spatial_merge_size;
  const std::string vp = "model.visual.";
  s.push_back({vp + "patch_embed.proj.weight",
               {V, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size}, TensorRole::Vision});
  s.push_back({vp + "patch_embed.proj.bias", {V}, TensorRole::Bias});
  s.push_back({vp + "pos_embed.weight", {v.num_position_embeddings, V}, TensorRole::VisionEmbedding});
  for (int i = 0; i < v.depth; ++i) {
    const std::string p = vp + "blocks." + std::to_string(i) + ".";
    s.push_back({p + "norm1.weight", {V}, TensorRole::Norm});
    s.push_back({p + "norm1.bias", {V}, TensorRole::Bias});
    s.push_back({p + "norm2.weight", {V}, TensorRole::Norm});
    s.push_back({p + "norm2.bias", {V}, TensorRole::Bias});
    s.push_back({p + "attn.qkv.weight", {3 * V, V}, TensorRole::Vision});
    s.push_back({p + "attn.qkv.bias", {3 * V}, TensorRole::Bias});
    s.push_back({p + "attn.proj.weight", {V, V}, TensorRole::Vision});
    s.push_back({p + "attn.proj.bias", {V}, TensorRole::Bias});
    s.push_back({p + "mlp.linear_fc1.weight", {v.intermediate_size, V}, TensorRole::Vision});
    s.push_back({p + "mlp.linear_fc1.bias", {v.intermediate_size}, TensorRole::Bias});
    s.push_back({p + "mlp.linear_fc2.weight", {V, v.intermediate_size}, TensorRole::Vision});
    s.push_back({p + "mlp.linear_fc2.bias", {V}, TensorRole::Bias});
  }
  auto merger = [&](const std::string& p, int64_t norm_dim) {
    s.push_back({p + "norm.weight", {norm_dim}, TensorRole::Norm});
    s.push_back({p + "norm.bias", {norm_dim}, TensorRole::Bias});
    s.push_back({p + "linear_fc1.weight", {M, M}, TensorRole::Vision});
    s.push_back({p + "linear_fc1.bias", {M}, TensorRole::Bias});
    s.push_back({p + "linear_fc2.weight", {v.out_hidden_size, M}, TensorRole::Vision});
    s.push_back({p + "linear_fc2.bias", {v.out_hidden_size}, TensorRole::Bias});
  };
  merger(vp + "merger.", V);  // normalises each patch before the 2x2 merge
  for (size_t j = 0; j < v.deepstack_visual_indexes.size(); ++j)
    merger(vp + "deepstack_merger_list." + std::to_string(j) + ".", M);  // after the merge
  return s;
}

}  // namespace qwen3vl
