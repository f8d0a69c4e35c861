// The prepare stage's work on one medium of a request: read its bytes,
// identify it by content, decode and preprocess it into the vision tower's
// pixel rows. One function per media kind behind one entry point, so a new
// kind plugs in here without touching the session.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/model/media_kind.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/tensor/vision_grid.h"
#include "qwen3vl/video/video_processor_config.h"

namespace qwen3vl {

struct PreparedMedium {
  MediaKind kind = MediaKind::Image;
  VisionGrid grid;
  std::vector<float> pixel_values;  // [grid.patches(), patch_dim]
  std::string content_hash;         // of the encoded bytes (base/content_hash.h)
  std::string options_key;          // the preprocessing options that shaped pixel_values
  // Replaces the chat template's placeholder block for this medium
  // (<|vision_start|><|..._pad|><|vision_end|>); empty keeps the block. A
  // video writes its per-temporal-patch timestamp text and one pad per
  // temporal patch here; an image keeps the template's single pad.
  std::string placeholder_text;
  double decode_ms = 0, preprocess_ms = 0;
};

struct MediaPreparation {
  const PreprocessorConfig& preprocessor;
  const VideoProcessorConfig& video_processor;
  const GenerateOptions& options;
  ThreadPool& pool;      // for resizing
  std::string base_dir;  // relative paths not found from the working directory resolve here
  int64_t context_tokens = 0;  // a medium needing this many tokens or more is refused before decoding
};

// Throws Error naming the medium ("image 2: ...") on unreadable, undecodable
// or unsupported input.
PreparedMedium prepare_medium(const MediaReference& reference, size_t index, const MediaPreparation& preparation);

}  // namespace qwen3vl
