// The prepare stage's work on one medium of a request, in two steps so that
// nothing costly happens before the prompt is known to fit: prepare_medium
// reads the medium's header only (its grid, so its token count, from the
// header dimensions and the resize rule; its content hash), and
// load_medium_pixels later decodes and preprocesses it into the vision
// tower's pixel rows. One function per media kind behind one entry point, so a
// new kind plugs in here without touching the session.
#pragma once
#include <functional>
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
  VisionGrid grid;                  // known after prepare_medium
  std::vector<float> pixel_values;  // [grid.patches(), patch_dim]; filled by load_medium_pixels
  std::string content_hash;         // of the encoded bytes (base/content_hash.h)
  std::string options_key;          // the preprocessing options that shape pixel_values
  // Replaces the chat template's placeholder block for this medium
  // (<|vision_start|><|..._pad|><|vision_end|>); empty keeps the block. A
  // video writes its per-temporal-patch timestamp text and one pad per
  // temporal patch here; an image keeps the template's single pad.
  std::string placeholder_text;
  double decode_ms = 0, preprocess_ms = 0;
  // The deferred decode + preprocess (set by prepare_medium; a kind that fills
  // pixel_values at once leaves it empty). It must produce `grid`.
  std::function<void(PreparedMedium&)> load_pixels;
};

struct MediaPreparation {
  const PreprocessorConfig& preprocessor;
  const VideoProcessorConfig& video_processor;
  const GenerateOptions& options;
  ThreadPool& pool;             // for resizing
  int64_t context_tokens = 0;  // a medium needing this many tokens or more is refused before decoding
};

// Header only: kind, grid, content hash, options key. `reference.source` is
// already resolved (normalize_messages). Throws Error naming the medium
// ("image 2: ...") on unreadable, oversized or unsupported input. The
// preparation must outlive the load_medium_pixels call.
PreparedMedium prepare_medium(const MediaReference& reference, size_t index, const MediaPreparation& preparation);

// Decodes and preprocesses into pixel_values (once; no-op afterwards), errors
// naming the medium as prepare_medium's do.
void load_medium_pixels(PreparedMedium& medium, size_t index);

}  // namespace qwen3vl
