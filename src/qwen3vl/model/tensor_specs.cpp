#include "qwen3vl/model/tensor_specs.h"

#include <string>

namespace qwen3vl {

namespace {

TensorSpec matrix(const std::string& name, int64_t out, int64_t in, WeightClass cls) {
  return {name, {out, in}, TensorKind::Matrix, cls};
}

TensorSpec vector_of(const std::string& name, int64_t n, TensorKind kind) { return {name, {n}, kind, std::nullopt}; }

LinearSpec linear(const std::string& prefix, int64_t out, int64_t in, WeightClass cls, bool bias) {
  LinearSpec s{matrix(prefix + ".weight", out, in, cls), std::nullopt};
  if (bias) s.bias = vector_of(prefix + ".bias", out, TensorKind::Bias);
  return s;
}

NormSpec rms_norm(const std::string& prefix, int64_t dim) {
  return {vector_of(prefix + ".weight", dim, TensorKind::NormWeight), std::nullopt};
}

NormSpec layer_norm(const std::string& prefix, int64_t dim) {
  return {vector_of(prefix + ".weight", dim, TensorKind::NormWeight), vector_of(prefix + ".bias", dim, TensorKind::Bias)};
}

TextModelSpec text_specs(const ModelConfig& c) {
  const TextConfig& t = c.text;
  const int64_t H = t.hidden_size, I = t.intermediate_size;
  const int64_t Q = int64_t(t.num_heads) * t.head_dim, KV = int64_t(t.num_kv_heads) * t.head_dim;
  const std::string lm = "model.language_model.";
  const bool bias = t.attention_bias;
  TextModelSpec s;
  s.embed_tokens = matrix(lm + "embed_tokens.weight", t.vocab_size, H, WeightClass::EmbeddingHead);
  for (int i = 0; i < t.num_layers; ++i) {
    const std::string p = lm + "layers." + std::to_string(i) + ".";
    TextLayerSpec L;
    L.input_norm = rms_norm(p + "input_layernorm", H);
    L.q_proj = linear(p + "self_attn.q_proj", Q, H, WeightClass::Attention, bias);
    L.k_proj = linear(p + "self_attn.k_proj", KV, H, WeightClass::Attention, bias);
    L.v_proj = linear(p + "self_attn.v_proj", KV, H, WeightClass::Attention, bias);
    L.o_proj = linear(p + "self_attn.o_proj", H, Q, WeightClass::Attention, bias);
    L.q_norm = rms_norm(p + "self_attn.q_norm", t.head_dim);
    L.k_norm = rms_norm(p + "self_attn.k_norm", t.head_dim);
    L.post_attention_norm = rms_norm(p + "post_attention_layernorm", H);
    if (t.is_moe_layer(i)) {
      const int64_t E = t.num_experts, EI = t.moe_intermediate_size;
      L.moe = MoeMlpSpec{{p + "mlp.gate.weight", {E, H}, TensorKind::Matrix, std::nullopt},
                         {p + "mlp.experts.gate_up_proj", {E, H, 2 * EI}, TensorKind::Experts, WeightClass::Mlp},
                         {p + "mlp.experts.down_proj", {E, EI, H}, TensorKind::Experts, WeightClass::Mlp}};
    } else {
      L.mlp = DenseMlpSpec{linear(p + "mlp.gate_proj", I, H, WeightClass::Mlp, false),
                           linear(p + "mlp.up_proj", I, H, WeightClass::Mlp, false),
                           linear(p + "mlp.down_proj", H, I, WeightClass::Mlp, false)};
    }
    s.layers.push_back(std::move(L));
  }
  s.norm = rms_norm(lm + "norm", H);
  if (!c.tie_word_embeddings) s.lm_head = matrix("lm_head.weight", t.vocab_size, H, WeightClass::EmbeddingHead);
  return s;
}

VisionModelSpec vision_specs(const ModelConfig& c) {
  const VisionConfig& v = c.vision;
  const int64_t H = v.hidden_size, M = H * v.spatial_merge_size * v.spatial_merge_size;
  const std::string vp = "model.visual.";
  VisionModelSpec s;
  s.patch_embed.weight = {vp + "patch_embed.proj.weight",
                          {H, v.in_channels, v.temporal_patch_size, v.patch_size, v.patch_size},
                          TensorKind::Conv,
                          WeightClass::Vision};
  s.patch_embed.bias = vector_of(vp + "patch_embed.proj.bias", H, TensorKind::Bias);
  s.pos_embed = {vp + "pos_embed.weight", {v.num_position_embeddings, H}, TensorKind::PositionTable, std::nullopt};
  for (int i = 0; i < v.depth; ++i) {
    const std::string p = vp + "blocks." + std::to_string(i) + ".";
    s.blocks.push_back({layer_norm(p + "norm1", H), layer_norm(p + "norm2", H),
                        linear(p + "attn.qkv", 3 * H, H, WeightClass::Vision, true),
                        linear(p + "attn.proj", H, H, WeightClass::Vision, true),
                        linear(p + "mlp.linear_fc1", v.intermediate_size, H, WeightClass::Vision, true),
                        linear(p + "mlp.linear_fc2", H, v.intermediate_size, WeightClass::Vision, true)});
  }
  auto merger = [&](const std::string& p, int64_t norm_dim) {
    return PatchMergerSpec{layer_norm(p + "norm", norm_dim), linear(p + "linear_fc1", M, M, WeightClass::Vision, true),
                           linear(p + "linear_fc2", v.out_hidden_size, M, WeightClass::Vision, true)};
  };
  s.merger = merger(vp + "merger.", H);  // normalises each patch before the merge
  for (size_t j = 0; j < v.deepstack_visual_indexes.size(); ++j)
    s.deepstack_mergers.push_back(merger(vp + "deepstack_merger_list." + std::to_string(j) + ".", M));  // after it
  return s;
}

}  // namespace

void DenseMlpSpec::append_to(std::vector<TensorSpec>& out) const {
  gate_proj.append_to(out);
  up_proj.append_to(out);
  down_proj.append_to(out);
}

void MoeMlpSpec::append_to(std::vector<TensorSpec>& out) const {
  out.push_back(router);
  out.push_back(gate_up_proj);
  out.push_back(down_proj);
}

void TextLayerSpec::append_to(std::vector<TensorSpec>& out) const {
  input_norm.append_to(out);
  for (const LinearSpec* l : {&q_proj, &k_proj, &v_proj, &o_proj}) l->append_to(out);
  q_norm.append_to(out);
  k_norm.append_to(out);
  post_attention_norm.append_to(out);
  if (mlp) mlp->append_to(out);
  if (moe) moe->append_to(out);
}

std::vector<TensorSpec> TextLayerSpec::all() const {
  std::vector<TensorSpec> out;
  append_to(out);
  return out;
}

std::vector<TensorSpec> TextModelSpec::all() const {
  std::vector<TensorSpec> out{embed_tokens};
  for (const TextLayerSpec& L : layers) L.append_to(out);
  norm.append_to(out);
  if (lm_head) out.push_back(*lm_head);
  return out;
}

void VisionBlockSpec::append_to(std::vector<TensorSpec>& out) const {
  norm1.append_to(out);
  norm2.append_to(out);
  for (const LinearSpec* l : {&qkv, &proj, &fc1, &fc2}) l->append_to(out);
}

void PatchMergerSpec::append_to(std::vector<TensorSpec>& out) const {
  norm.append_to(out);
  fc1.append_to(out);
  fc2.append_to(out);
}

std::vector<TensorSpec> VisionModelSpec::all() const {
  std::vector<TensorSpec> out;
  patch_embed.append_to(out);
  out.push_back(pos_embed);
  for (const VisionBlockSpec& b : blocks) b.append_to(out);
  merger.append_to(out);
  for (const PatchMergerSpec& m : deepstack_mergers) m.append_to(out);
  return out;
}

std::vector<TensorSpec> ModelTensorSpecs::all() const {
  std::vector<TensorSpec> out = text.all();
  for (TensorSpec& s : vision.all()) out.push_back(std::move(s));
  return out;
}

ModelTensorSpecs qwen3vl_tensor_specs(const ModelConfig& config) {
  return {text_specs(config), vision_specs(config)};
}

}  // namespace qwen3vl
