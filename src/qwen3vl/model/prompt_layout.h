// A prompt laid out for the decoder: each media placeholder expanded to the
// rows its medium's features fill, and the 3-D rope positions of every row.
// Needs only the config, so a caller without weights (an ONNX input
// preparer) lays out prompts exactly as the model does.
//
// Media placeholders: the prompt holds one pad token per image
// (<|image_pad|>) and one per temporal patch of a video (<|video_pad|>, each
// framed by its own timestamp text, as the Qwen3-VL processor writes videos).
// Each pad becomes as many copies as its block has merged tokens; media are
// matched to pads in prompt order, per kind.
#pragma once
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "qwen3vl/model/media_kind.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/tensor/vision_grid.h"

namespace qwen3vl {

// One image or video of a prompt, as far as the layout is concerned.
struct MediaGrid {
  MediaKind kind = MediaKind::Image;
  VisionGrid grid;  // image: t = 1; video: t = temporal patches (frame pairs)
};

// Where one medium's features land in a laid-out prompt.
struct MediaPlacement {
  MediaKind kind = MediaKind::Image;
  VisionGrid grid;
  int64_t first_visual = 0;  // index of its first row in PromptLayout::visual_rows
  int64_t tokens = 0;        // its rows: visual_rows[first_visual, first_visual + tokens)
};

// A prompt ready for the decoder.
struct PromptLayout {
  std::vector<int32_t> ids;                       // every placeholder expanded
  std::array<std::vector<int32_t>, 3> positions;  // t, h, w rope positions per row
  int64_t rope_delta = 0;                         // decode position = cache position + rope_delta
  std::vector<int32_t> visual_rows;               // rows taking visual features, ascending
  std::vector<MediaPlacement> media;              // in prompt order
  std::vector<int32_t> row_medium;                // per row: index into media, or -1 for text

  int64_t length() const { return static_cast<int64_t>(ids.size()); }
  // The media with at least one row at or after `row` (what a prefill from `row` needs).
  std::vector<bool> media_needed_from(int64_t row) const;
};

// Merged tokens a medium's pads expand to in all (what a context check
// needs before any pixel is decoded).
int64_t media_tokens(const ModelConfig& config, const MediaGrid& medium);

// Expands the placeholders of `ids` for `media` (prompt order) and computes
// the 3-D rope positions. Throws Error when pads and media disagree in
// number or kind, or a grid is invalid.
PromptLayout layout_prompt(const ModelConfig& config, std::span<const int32_t> ids, std::span<const MediaGrid> media);

}  // namespace qwen3vl
