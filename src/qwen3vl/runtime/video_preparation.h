// The prepare stage's work on one video of a request: open the file (or the
// frame list), plan from its metadata which frames to keep and how many
// tokens they make, refuse a clip that cannot fit the context BEFORE decoding
// anything, then decode only the sampled frames and preprocess them. The
// medium's placeholder text carries the per-frame-pair timestamps.
#pragma once
#include <cstddef>

#include "qwen3vl/runtime/media_preparation.h"

namespace qwen3vl {

// Throws Error on an unreadable, corrupt or unsupported video, invalid
// per-part options, or a clip whose tokens exceed `preparation`'s context.
PreparedMedium prepare_video(const MediaReference& reference, const MediaPreparation& preparation);

}  // namespace qwen3vl
