#include "qwen3vl/model/vision_encoder.h"

#include <cmath>
#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/attention.h"
#include "qwen3vl/kernels/elementwise.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/rotary.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace {

struct Linear {
  WeightMatrix weight;
  std::vector<float> bias;
};

Linear load_linear(const WeightSource& source, const LinearSpec& spec, const WeightOptions& options) {
  return {load_matrix(source, spec.weight, options), load_vector(source, spec.bias)};
}

struct Norm {
  std::vector<float> weight, bias;
};

Norm load_norm(const WeightSource& source, const NormSpec& spec) {
  return {load_vector(source, spec.weight), load_vector(source, spec.bias)};
}

constexpr float kNormEps = 1e-6f;

}  // namespace

struct VisionEncoder::Weights {
  struct Block {
    Norm norm1, norm2;
    Linear qkv, proj, fc1, fc2;
  };
  // Norm, then fc1 -> exact GELU -> fc2. The main merger normalises each
  // patch (hidden) before grouping 4 patches; DeepStack mergers normalise the
  // grouped row (4*hidden).
  struct Merger {
    Norm norm;
    bool norm_after_merge = false;
    Linear fc1, fc2;
  };

  WeightMatrix patch_embed;
  std::vector<float> patch_embed_bias;
  WeightMatrix position_table;  // [side², hidden], widened a row at a time
  std::vector<Block> blocks;
  Merger merger;
  std::vector<Merger> deepstack;
  bool mlp_gelu_tanh = true;
};

VisionEncoder::VisionEncoder(const ModelConfig& config, const WeightSource& source, VisionEncoderOptions options)
    : config_(config.vision),
      w_(std::make_unique<Weights>()) {
  const VisionConfig& c = config_;
  check(c.depth > 0 && c.hidden_size > 0 && c.num_heads > 0 && c.hidden_size % c.num_heads == 0,
        "vision config: depth, hidden_size and num_heads must be positive, hidden_size a multiple of num_heads");
  if (c.hidden_act == "gelu_pytorch_tanh" || c.hidden_act == "gelu_new") {
    w_->mlp_gelu_tanh = true;
  } else if (c.hidden_act == "gelu") {
    w_->mlp_gelu_tanh = false;
  } else {
    throw Error("vision config: hidden_act '" + c.hidden_act + "' is not supported");
  }
  for (int idx : c.deepstack_visual_indexes)
    check(idx >= 0 && idx < c.depth, "vision config: deepstack_visual_indexes entry " + std::to_string(idx) +
                                         " is outside the " + std::to_string(c.depth) + " blocks");

  const VisionModelSpec spec = qwen3vl_tensor_specs(config).vision;
  const WeightOptions& wo = options.weights;
  // The patch embedding is a Conv3d whose stride equals its kernel: stored
  // as [hidden, channels, t, h, w], used as a [hidden, channels*t*h*w] matrix
  // through the same format conversion as every other vision weight.
  const Linear patch = load_linear(source, spec.patch_embed, wo);
  w_->patch_embed = patch.weight;
  w_->patch_embed_bias = patch.bias;
  // Looked up a row at a time (never multiplied), so kept as stored.
  w_->position_table = load_matrix(source, spec.pos_embed, wo);

  for (const VisionBlockSpec& s : spec.blocks) {
    w_->blocks.push_back({load_norm(source, s.norm1), load_norm(source, s.norm2), load_linear(source, s.qkv, wo),
                          load_linear(source, s.proj, wo), load_linear(source, s.fc1, wo), load_linear(source, s.fc2, wo)});
  }
  auto load_merger = [&](const PatchMergerSpec& s, bool norm_after_merge) {
    return Weights::Merger{load_norm(source, s.norm), norm_after_merge, load_linear(source, s.fc1, wo),
                           load_linear(source, s.fc2, wo)};
  };
  w_->merger = load_merger(spec.merger, false);
  for (const PatchMergerSpec& s : spec.deepstack_mergers) w_->deepstack.push_back(load_merger(s, true));
}

VisionEncoder::~VisionEncoder() = default;
VisionEncoder::VisionEncoder(VisionEncoder&&) noexcept = default;
VisionEncoder& VisionEncoder::operator=(VisionEncoder&&) noexcept = default;

VisionInputs VisionEncoder::prepare(const std::vector<VisionGrid>& grids) const {
  return compute_vision_inputs(grids, VisionInputsSpec::from_config(config_));
}

VisionEncoderOutput VisionEncoder::encode(const float* pixel_values, const VisionInputs& inputs,
                                          const ForwardContext& ctx) const {
  const int64_t n = inputs.num_patches;
  std::vector<float> patch_embeds(static_cast<size_t>(n * config_.hidden_size));
  matmul(pixel_values, n, w_->patch_embed, w_->patch_embed_bias.data(), patch_embeds.data(), ctx.pool);
  return encode_patch_embeddings(patch_embeds.data(), inputs, ctx);
}

VisionEncoderOutput VisionEncoder::encode_patch_embeddings(const float* patch_embeds, const VisionInputs& inputs,
                                                           const ForwardContext& ctx) const {
  const VisionConfig& c = config_;
  ThreadPool& pool = ctx.pool;
  auto capture = [&](const std::string& name, const float* data, int64_t rows, int64_t cols) {
    if (ctx.capturing()) ctx.capture->put(name, {rows, cols}, data);
  };
  const int64_t n = inputs.num_patches;
  const int64_t H = c.hidden_size, I = c.intermediate_size;
  const int heads = c.num_heads, hd = c.head_dim();
  const int unit = c.spatial_merge_size * c.spatial_merge_size;
  check(inputs.head_dim == hd, "vision encoder: inputs were prepared for head_dim " +
                                   std::to_string(inputs.head_dim) + ", the model has " + std::to_string(hd));
  check(n % unit == 0, "vision encoder: patch count is not a multiple of the merge unit");
  check(static_cast<int64_t>(inputs.pos_index.size()) == n * VisionInputs::kCorners &&
            static_cast<int64_t>(inputs.rope_cos.size()) == n * hd && !inputs.cu_seqlens.empty() &&
            inputs.cu_seqlens.back() == n,
        "vision encoder: inconsistent vision inputs (prepare them with VisionEncoder::prepare)");
  const size_t nH = static_cast<size_t>(n * H);
  capture("vision_patch_embed", patch_embeds, n, H);

  // Learned position embedding, bilinearly blended from 4 table rows.
  std::vector<float> pos(nH);
  pool.parallel_for(n, 64, [&](int64_t p0, int64_t p1) {
    std::vector<float> row(static_cast<size_t>(H));
    for (int64_t p = p0; p < p1; ++p) {
      float* out = pos.data() + p * H;
      for (int k = 0; k < VisionInputs::kCorners; ++k) {
        weight_row_to_f32(w_->position_table, inputs.pos_index[p * VisionInputs::kCorners + k], row.data());
        const float wt = inputs.pos_weight[p * VisionInputs::kCorners + k];
        for (int64_t j = 0; j < H; ++j) out[j] = k == 0 ? row[j] * wt : out[j] + row[j] * wt;
      }
    }
  });
  capture("vision_pos_embeds", pos.data(), n, H);

  std::vector<float> x(patch_embeds, patch_embeds + nH);
  add_inplace(x.data(), pos.data(), static_cast<int64_t>(nH), pool);

  std::vector<float> normed(nH), qkv(nH * 3), attn(nH), mlp(static_cast<size_t>(n * I));
  std::vector<float> tmp(nH);
  VisionEncoderOutput result;
  result.num_tokens = n / unit;
  result.out_hidden = c.out_hidden_size;
  result.deepstack.resize(c.deepstack_visual_indexes.size());

  auto run_merger = [&](const Weights::Merger& mg, const float* hidden) {
    const int64_t tokens = n / unit, width = H * unit;
    std::vector<float> grouped(nH);
    if (mg.norm_after_merge) {
      layer_norm(hidden, mg.norm.weight.data(), mg.norm.bias.data(), kNormEps, tokens, width, grouped.data(), pool);
    } else {
      layer_norm(hidden, mg.norm.weight.data(), mg.norm.bias.data(), kNormEps, n, H, grouped.data(), pool);
    }
    // Rows of `unit` consecutive patches (one merge block) are already one
    // token's concatenated input.
    std::vector<float> wide(static_cast<size_t>(tokens * width));
    matmul(grouped.data(), tokens, mg.fc1.weight, mg.fc1.bias.data(), wide.data(), pool);
    gelu_erf_inplace(wide.data(), tokens * width, pool);
    std::vector<float> out(static_cast<size_t>(tokens * c.out_hidden_size));
    matmul(wide.data(), tokens, mg.fc2.weight, mg.fc2.bias.data(), out.data(), pool);
    return out;
  };

  for (int b = 0; b < c.depth; ++b) {
    const Weights::Block& blk = w_->blocks[b];
    // Attention: q, k, v live side by side in each qkv row ([q | k | v], heads within each).
    layer_norm(x.data(), blk.norm1.weight.data(), blk.norm1.bias.data(), kNormEps, n, H, normed.data(), pool);
    matmul(normed.data(), n, blk.qkv.weight, blk.qkv.bias.data(), qkv.data(), pool);
    const float *cs = inputs.rope_cos.data(), *sn = inputs.rope_sin.data();
    apply_rotary(qkv.data(), n, 3 * H, heads, hd, cs, sn, pool);      // q
    apply_rotary(qkv.data() + H, n, 3 * H, heads, hd, cs, sn, pool);  // k
    for (int64_t s = 0; s < inputs.num_segments(); ++s) {
      const int64_t begin = inputs.cu_seqlens[s], len = inputs.cu_seqlens[s + 1] - begin;
      AttentionShape shape;
      shape.n_q = shape.n_kv = len;
      shape.n_heads = shape.n_kv_heads = heads;
      shape.head_dim = hd;
      shape.q_stride = shape.kv_stride = 3 * H;
      shape.out_stride = H;
      shape.scale = 1.0f / std::sqrt(static_cast<float>(hd));
      shape.causal = false;
      // How approximate q, k and v already are; the kernel picks its products.
      shape.inputs_format = blk.qkv.weight.format;
      const float* base = qkv.data() + begin * 3 * H;
      attention(base, base + H, base + 2 * H, shape, attn.data() + begin * H, pool);
    }
    matmul(attn.data(), n, blk.proj.weight, blk.proj.bias.data(), tmp.data(), pool);
    add_inplace(x.data(), tmp.data(), static_cast<int64_t>(nH), pool);

    // MLP.
    layer_norm(x.data(), blk.norm2.weight.data(), blk.norm2.bias.data(), kNormEps, n, H, normed.data(), pool);
    matmul(normed.data(), n, blk.fc1.weight, blk.fc1.bias.data(), mlp.data(), pool);
    if (w_->mlp_gelu_tanh) {
      gelu_tanh_inplace(mlp.data(), n * I, pool);
    } else {
      gelu_erf_inplace(mlp.data(), n * I, pool);
    }
    matmul(mlp.data(), n, blk.fc2.weight, blk.fc2.bias.data(), tmp.data(), pool);
    add_inplace(x.data(), tmp.data(), static_cast<int64_t>(nH), pool);

    capture("vision_block" + std::to_string(b) + "_out", x.data(), n, H);
    for (size_t j = 0; j < c.deepstack_visual_indexes.size(); ++j)
      if (c.deepstack_visual_indexes[j] == b) {
        result.deepstack[j] = run_merger(w_->deepstack[j], x.data());
      }
  }
  result.image_embeds = run_merger(w_->merger, x.data());
  return result;
}

}  // namespace qwen3vl
