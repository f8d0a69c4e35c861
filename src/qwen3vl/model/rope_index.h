// 3-D rotary positions (t, h, w) of a prompt, as Qwen3-VL's get_rope_index:
// text tokens count up with the same value on all three axes; the tokens of
// one image take (frame, row, column) in merged-token units offset by the
// position the image starts at; text after an image resumes at one past the
// largest position used so far. Qwen3-VL encodes video time with timestamp
// text, so every video frame is its own block with frame index 0.
#pragma once
#include <cstdint>
#include <vector>

#include "qwen3vl/model/model_config.h"
#include "qwen3vl/tensor/vision_grid.h"

namespace qwen3vl {

struct RopeIndexSpec {
  int64_t image_token_id = 151655;
  int64_t video_token_id = 151656;
  int merge_size = 2;

  static RopeIndexSpec from_config(const ModelConfig& c);
};

struct RopeIndex {
  int64_t length = 0;
  std::vector<int64_t> positions;  // [3, length]: rows t, h, w
  // max position + 1 - length; decode step s (cache position) uses s + rope_delta.
  int64_t rope_delta = 0;

  const int64_t* axis(int a) const { return positions.data() + a * length; }
};

// input_ids must already have each image's <|image_pad|> expanded to
// grid.merged_tokens() copies (and each video frame's <|video_pad|> likewise).
// Images and videos are matched to the blocks of pad tokens in order. Throws
// Error when the number of blocks and grids disagree or a block's length does
// not match its grid.
RopeIndex compute_rope_index(const std::vector<int64_t>& input_ids,
                             const std::vector<VisionGrid>& image_grids,
                             const std::vector<VisionGrid>& video_grids, const RopeIndexSpec& spec);

}  // namespace qwen3vl
