// The whole Qwen3-VL forward in one object: the vision tower, media
// placeholder expansion, 3-D rope positions, the scatter of visual features
// into the prompt, DeepStack, and the text decoder with chunked prefill and
// decode steps. Sessions and servers drive it stage by stage; they hold no
// model logic of their own.
//
// Immutable after construction and shared by every session and thread: the
// per-sequence state (KV cache, rope delta) and the per-worker scratch
// (DecoderWorkspace) are separate objects passed into each call, so several
// sequences can run at once, and a batched decode over several caches fits
// the same shape.
//
// Media placeholders: the prompt handed to layout_prompt() holds one pad
// token per image (<|image_pad|>) and one per temporal patch of a video
// (<|video_pad|>, each framed by its own timestamp text, as the Qwen3-VL
// processor writes videos). Each pad becomes as many copies as its block has
// merged tokens; media are matched to pads in prompt order, per kind.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "qwen3vl/model/forward_context.h"
#include "qwen3vl/model/kv_cache.h"
#include "qwen3vl/model/media_kind.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/prompt_layout.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/model/vision_encoder.h"
#include "qwen3vl/tensor/vision_grid.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/weights/weight_source.h"

namespace qwen3vl {

// One preprocessed image or video, as the vision tower takes it.
struct MediaPixels {
  MediaKind kind = MediaKind::Image;
  VisionGrid grid;
  std::span<const float> pixel_values;  // [grid.patches(), patch_dim] in merge-block order
};

// The vision tower's output for one medium: its rows of visual features in
// the order they fill the medium's pad tokens. Read-only once made, so one
// encoding can be cached and shared by several sessions.
struct MediaEncoding {
  MediaKind kind = MediaKind::Image;
  VisionGrid grid;
  int64_t tokens = 0;                         // merged tokens (pad rows it fills)
  int hidden = 0;                             // the text model's hidden size
  std::vector<float> embeds;                  // [tokens, hidden]
  std::vector<std::vector<float>> deepstack;  // per DeepStack level, [tokens, hidden]

  size_t bytes() const;
};

// One sequence's next token in a batched decode step.
struct DecodeRequest {
  int32_t token = 0;
  int64_t rope_delta = 0;     // of the prompt the cache holds
  KVCache* cache = nullptr;   // the sequence's own cache
};

struct ModelWeightsOptions {
  WeightOptions weights;
  bool load_vision = true;
};

struct PrefillOptions {
  int64_t chunk_rows = 512;  // rows per decoder call (bounds the workspace)
  int64_t end_row = 0;       // > 0: stop before this row (a part of the prompt); 0: run to its end
};

class Qwen3VLModel {
 public:
  // Views or converts every weight; throws Error naming a missing or
  // misshapen tensor. The mapping behind `weights` must outlive the model.
  Qwen3VLModel(const ModelConfig& config, const WeightSource& weights, const ModelWeightsOptions& options = {});

  const ModelConfig& config() const { return config_; }
  bool has_vision() const { return vision_.has_value(); }
  const TextDecoder& decoder() const { return decoder_; }

  // A KV cache for one sequence of up to `context_length` tokens.
  KVCache make_cache(int64_t context_length, KVCacheType type) const;

  // Merged tokens a medium's pads expand to in all (what a context check
  // needs before any pixel is decoded).
  int64_t media_tokens(const MediaGrid& medium) const;

  // Expands the placeholders of `ids` (see the file comment) for `media`
  // (prompt order) and computes the 3-D rope positions. Throws Error when
  // pads and media disagree in number or kind, or a grid is invalid.
  PromptLayout layout_prompt(std::span<const int32_t> ids, std::span<const MediaGrid> media) const;

  // Runs the vision tower on each medium separately (attention never crosses
  // media, so each result is what a joint run gives, and cacheable alone).
  // When ctx captures, emits the reference's names for the concatenation of
  // the media of each kind: pixel_values, image_grid_thw, image_embeds,
  // image_deepstack_{j}, vision_* tower traces (videos: pixel_values_videos,
  // video_grid_thw, video_embeds, video_deepstack_{j}, video_vision_*).
  std::vector<std::shared_ptr<const MediaEncoding>> encode_media(std::span<const MediaPixels> media,
                                                                 const ForwardContext& ctx) const;

  // Runs the prompt's rows [first_row, length) through the decoder, appending
  // them to `cache` (which must hold exactly first_row rows of this prompt),
  // in chunks; with options.end_row only rows [first_row, end_row) (a part
  // of the prompt, continued by a later call). encodings[i] is medium i's features; it may be null for a
  // medium whose rows all lie before first_row. Returns the last row's logits
  // (valid until `ws` is used again). When ctx captures: one chunk, and the
  // names input_ids, position_ids, rope_deltas, deepstack_{j} (all media in
  // sequence order), text_* traces, logits_first256 and logits_last.
  std::span<const float> prefill(const PromptLayout& prompt,
                                 std::span<const std::shared_ptr<const MediaEncoding>> encodings,
                                 int64_t first_row, KVCache& cache, DecoderWorkspace& ws, const ForwardContext& ctx,
                                 const PrefillOptions& options = {}) const;

  // Appends one token at cache position + rope_delta (all three axes) and
  // returns the next token's logits (valid until `ws` is used again).
  std::span<const float> decode_step(int32_t token, int64_t rope_delta, KVCache& cache, DecoderWorkspace& ws,
                                     const ForwardContext& ctx) const;

  // decode_step for several sequences at once (continuous batching): one
  // pass over the weights serves them all. Returns the logits [N, vocab], row
  // i bit-identical to decode_step of sequence i alone, whatever else runs
  // (TextDecoder::decode_batch). The caches must be distinct.
  std::span<const float> decode_batch(std::span<const DecodeRequest> sequences, DecoderWorkspace& ws,
                                      const ForwardContext& ctx) const;

 private:
  ModelConfig config_;
  TextDecoder decoder_;
  std::optional<VisionEncoder> vision_;
};

}  // namespace qwen3vl
