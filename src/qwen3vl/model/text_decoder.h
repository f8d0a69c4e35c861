// The Qwen3-VL language model: token embeddings, a stack of pre-norm decoder
// layers (GQA attention with per-head q/k RMSNorm and interleaved M-RoPE, then
// a SwiGLU MLP), DeepStack injection of visual features into the first layers'
// image-token rows, the final norm and the LM head. One forward call
// processes a chunk of new tokens appended to a KV cache: the whole prompt
// (or a piece of it) during prefill, one token per step during decode.
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/moe_mlp.h"
#include "qwen3vl/model/mrope.h"
#include "qwen3vl/weights/weight_loading.h"

namespace qwen3vl {

struct DecoderOptions {
  WeightOptions weights;
  ThreadPool* pool = nullptr;  // required: the threads the model runs on
};

// One chunk of new tokens. Row indices are relative to the chunk; when a
// prompt is split into chunks, each chunk passes the visual rows that fall in
// it (image_embeds / deepstack pointing at those rows' features, in order).
// Positions come from the caller: the prompt's 3-row rope index, then for each
// decoded token cache.size() + rope_delta on all three axes.
struct DecoderInput {
  std::span<const int32_t> ids;
  std::array<std::span<const int32_t>, 3> positions;  // t, h, w; each ids.size() entries
  // Rows whose embedding is replaced by a visual embedding (image-pad tokens).
  std::span<const int32_t> image_rows;
  const float* image_embeds = nullptr;  // [image_rows.size(), hidden]
  // DeepStack features: level j is added to the image rows after layer j.
  std::vector<const float*> deepstack;  // each [image_rows.size(), hidden]
};

// Where a forward call's time went (milliseconds, summed over calls while
// profiling is on). Measuring costs two clock reads per phase.
struct DecoderProfile {
  double embed_ms = 0;       // embedding lookup, visual rows, RoPE tables
  double norms_ms = 0;       // RMSNorms, q/k norms, RoPE, SwiGLU, residual adds
  double qkv_ms = 0;         // q/k/v projections
  double attention_ms = 0;   // KV cache write + attention
  double out_proj_ms = 0;    // o projection
  double mlp_ms = 0;         // gate/up/down projections
  double head_ms = 0;        // final norm + LM head
  int64_t calls = 0;
  double total_ms() const { return embed_ms + norms_ms + qkv_ms + attention_ms + out_proj_ms + mlp_ms + head_ms; }
};

// Which logits to compute.
struct LogitsRequest {
  bool all_rows = false;  // false: only the chunk's last row
  int64_t columns = 0;    // leading vocabulary columns to compute; 0 = all
};

// Not safe to call forward() concurrently on one instance (it owns scratch
// buffers); the weights are read-only and may back several instances.
class TextDecoder {
 public:
  // Observes intermediate tensors (row-major [rows, cols]) for tests and dumps.
  // Names: text_rope_cos, text_rope_sin, text_layer{i}_out; for each MoE layer
  // router_logits_layer{i}, router_topk_weights_layer{i}, moe_out_layer{i}.
  using Capture = std::function<void(const std::string& name, const float* data, int64_t rows, int64_t cols)>;
  // The integer tensors: router_topk_ids_layer{i} of each MoE layer.
  using IndexCapture = std::function<void(const std::string& name, const int64_t* data, int64_t rows, int64_t cols)>;

  // Loads (views) every tensor; throws Error naming a missing/misshapen one.
  TextDecoder(const ModelConfig& config, const WeightSource& weights, const DecoderOptions& options = {});

  const TextConfig& config() const { return cfg_; }
  int64_t vocab_size() const { return cfg_.vocab_size; }

  // A cache able to hold `context_length` tokens for this model, storing
  // keys/values as `type` (f32 is exact; see kv_cache.h for the others).
  KVCache make_cache(int64_t context_length, KVCacheType type = KVCacheType::F32) const;

  // Runs the chunk, appends it to `cache` and returns the requested logits
  // ([rows, columns], row-major), valid until the next call. The cache is left
  // unchanged if this throws.
  std::span<const float> forward(const DecoderInput& input, KVCache& cache, const LogitsRequest& request = {});

  void set_capture(Capture capture) { capture_ = std::move(capture); }
  void set_index_capture(IndexCapture capture) { index_capture_ = std::move(capture); }

  void set_profiling(bool on) { profiling_ = on; }
  const DecoderProfile& profile() const { return profile_; }
  void reset_profile() { profile_ = {}; }

  // Total bytes of weights read per decoded token (of a MoE layer: its
  // router and the experts one token selects).
  size_t weight_bytes() const;

  // How often each expert was selected since the last reset, per layer
  // ([layer][expert]; empty rows for dense layers).
  const std::vector<std::vector<int64_t>>& expert_usage() const { return expert_usage_; }
  void reset_expert_usage();

 private:
  struct Layer {
    std::vector<float> input_norm, post_norm, q_norm, k_norm;
    WeightMatrix q, k, v, o, gate, up, down;            // gate/up/down: dense MLP layers only
    std::vector<float> q_bias, k_bias, v_bias, o_bias;  // empty unless attention_bias
    std::shared_ptr<const MoeMlp> moe;                  // MoE layers only
  };
  // Scratch sized for the largest chunk seen so far, reused by every layer.
  struct Workspace {
    int64_t rows = 0;
    std::vector<float> hidden, normed, q, k, v, attn, gate, up, cos, sin, logits;
    MoeMlp::Scratch moe;
  };

  void ensure_workspace(int64_t n);
  void validate(const DecoderInput& input, const KVCache& cache) const;
  void run_layer(int index, int64_t n, KVCache& cache);
  // MoE layers: the MLP block's output (before the residual) into `out`.
  void run_moe(int index, int64_t n, const float* x, float* out);
  const float* bias_or_null(const std::vector<float>& b) const { return b.empty() ? nullptr : b.data(); }

  TextConfig cfg_;
  MRope rope_;
  ThreadPool* pool_;
  WeightMatrix embed_;
  WeightMatrix head_;  // the embedding itself when tied
  std::vector<float> final_norm_;
  std::vector<Layer> layers_;
  Workspace ws_;
  Capture capture_;
  IndexCapture index_capture_;
  std::vector<std::vector<int64_t>> expert_usage_;
  bool profiling_ = false;
  DecoderProfile profile_;
};

}  // namespace qwen3vl
