// The Qwen3-VL language model: token embeddings, a stack of pre-norm decoder
// layers (GQA attention with per-head q/k RMSNorm and interleaved M-RoPE, then
// an MLP: dense SwiGLU, or for the layers a qwen3_vl_moe config makes sparse a
// Mixture-of-Experts block, model/moe_mlp.h), DeepStack injection of visual features into the first layers'
// image-token rows, the final norm and the LM head. One forward call
// processes a chunk of new tokens appended to a KV cache: the whole prompt
// (or a piece of it) during prefill, one token per step during decode.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/model/forward_context.h"
#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/moe_mlp.h"
#include "qwen3vl/model/mrope.h"
#include "qwen3vl/weights/weight_loading.h"

namespace qwen3vl {

struct DecoderOptions {
  WeightOptions weights;
};

// One chunk of new tokens. Row indices are relative to the chunk; when a
// prompt is split into chunks, each chunk passes the visual rows that fall in
// it (visual_embeds / deepstack pointing at those rows' features, in order).
// Positions come from the caller: the prompt's 3-row rope index, then for each
// decoded token cache.size() + rope_delta on all three axes.
struct DecoderInput {
  std::span<const int32_t> ids;
  std::array<std::span<const int32_t>, 3> positions;  // t, h, w; each ids.size() entries
  // Rows whose embedding is replaced by a visual embedding (image/video pads).
  std::span<const int32_t> visual_rows;
  const float* visual_embeds = nullptr;  // [visual_rows.size(), hidden]
  // DeepStack features: level j is added to the visual rows after layer j.
  std::vector<const float*> deepstack;  // each [visual_rows.size(), hidden]
};

// Which logits to compute.
struct LogitsRequest {
  bool all_rows = false;  // false: only the chunk's last row
  int64_t columns = 0;    // leading vocabulary columns to compute; 0 = all
};

// The per-call buffers of a forward pass, sized for the largest chunk seen
// and reused by every layer. One per session or worker: the decoder's weights
// are shared, these are not.
class DecoderWorkspace {
 public:
  DecoderWorkspace() = default;
  DecoderWorkspace(DecoderWorkspace&&) noexcept = default;
  DecoderWorkspace& operator=(DecoderWorkspace&&) noexcept = default;

  // How often each expert was selected by the tokens run with this workspace
  // ([layer][expert]; empty rows for dense layers), until reset.
  const std::vector<std::vector<int64_t>>& expert_usage() const { return expert_counts; }
  void reset_expert_usage() { expert_counts.clear(); }

 private:
  friend class TextDecoder;
  int64_t rows = 0;
  std::vector<float> residual;     // [rows, hidden]: the residual stream
  std::vector<float> normed;       // [rows, hidden]: RMSNorm of the residual
  std::vector<float> sublayer_out; // [rows, hidden]: attention or MLP output, before the residual add
  std::vector<float> q, k, v;      // [rows, heads * head_dim] projections, then normed and rotated
  std::vector<float> attention;    // [rows, heads * head_dim]: attention output before o_proj
  std::vector<float> gate, up;     // [rows, intermediate]; gate becomes silu(gate) * up in place
  MoeMlp::Scratch moe;             // MoE layers: routing and expert buffers, reused layer after layer
  std::vector<std::vector<int64_t>> expert_counts;
  std::vector<float> rope_cos, rope_sin;  // [rows, head_dim]
  std::vector<float> logits;       // [rows asked for, columns]
};

// Read-only after construction: forward() is const and may run on several
// threads at once, each with its own cache and workspace.
class TextDecoder {
 public:
  // Loads (views) every tensor; throws Error naming a missing/misshapen one.
  TextDecoder(const ModelConfig& config, const WeightSource& weights, const DecoderOptions& options = {});

  const TextConfig& config() const { return cfg_; }
  int64_t vocab_size() const { return cfg_.vocab_size; }

  // A cache able to hold `context_length` tokens for this model, storing
  // keys/values as `type` (f32 is exact; see kv_cache.h for the others).
  KVCache make_cache(int64_t context_length, KVCacheType type = KVCacheType::F32) const;

  // Runs the chunk, appends it to `cache` and returns the requested logits
  // ([rows, columns], row-major), valid until the workspace is used again.
  // The cache is left unchanged if this throws. Captures text_rope_cos,
  // text_rope_sin and text_layer{i}_out when ctx.capture is set; for each MoE
  // layer i also router_logits_layer{i}, router_topk_weights_layer{i},
  // moe_out_layer{i} (float) and router_topk_ids_layer{i} (int64, [rows, k]).
  std::span<const float> forward(const DecoderInput& input, KVCache& cache, DecoderWorkspace& ws,
                                 const ForwardContext& ctx, const LogitsRequest& request = {}) const;

  // One decode step of several sequences at once (continuous batching):
  // ids[i] joins *caches[i] at positions[a][i]. Returns the logits [N, vocab]
  // (row i for sequence i), valid until the workspace is used again. Each row
  // is bit-identical to forward() of that token alone: rows of different
  // sequences never mix, and every linear layer reads its weights once for
  // all rows while computing each row as a single one
  // (matmul_multi_rowwise). The caches must be distinct; none changes if
  // this throws.
  std::span<const float> decode_batch(std::span<const int32_t> ids,
                                      const std::array<std::span<const int32_t>, 3>& positions,
                                      std::span<KVCache* const> caches, DecoderWorkspace& ws,
                                      const ForwardContext& ctx) const;

  // Total bytes of weights read per decoded token (of a MoE layer: its
  // router and the experts one token selects).
  size_t weight_bytes() const;

  int num_layers() const { return static_cast<int>(layers_.size()); }
  // Layer `index`'s sparse MLP, or null when the layer is dense.
  const MoeMlp* moe_layer(int index) const { return layers_.at(static_cast<size_t>(index)).moe.get(); }

 private:
  struct Layer {
    std::vector<float> input_norm, post_norm, q_norm, k_norm;
    WeightMatrix q, k, v, o, gate, up, down;            // gate/up/down: dense MLP layers only
    std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty unless attention_bias
    std::shared_ptr<const MoeMlp> moe;                  // MoE layers only
  };

  // Rows [first_row, first_row + rows) of a pass: one sequence's new tokens,
  // appended to its cache.
  struct SequenceRows {
    KVCache* cache = nullptr;
    int64_t first_row = 0;
    int64_t rows = 0;
  };

  void validate(const DecoderInput& input) const;
  void check_cache(const KVCache& cache, int64_t new_rows) const;
  std::span<const float> run(const DecoderInput& input, std::span<const SequenceRows> sequences,
                             DecoderWorkspace& ws, const ForwardContext& ctx, const LogitsRequest& request) const;
  void run_layer(int index, std::span<const SequenceRows> sequences, int64_t n, DecoderWorkspace& ws,
                 const ForwardContext& ctx) const;
  // The MoE block's output (before the residual add) for the normed rows.
  const float* run_moe(int index, int64_t n, const float* normed, bool rowwise, DecoderWorkspace& ws,
                       const ForwardContext& ctx) const;
  static const float* bias_or_null(const std::vector<float>& b) { return b.empty() ? nullptr : b.data(); }

  TextConfig cfg_;
  MRope rope_;
  WeightMatrix embed_;
  WeightMatrix head_;  // the embedding itself when tied
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;
};

}  // namespace qwen3vl
