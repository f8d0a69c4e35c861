// The kinds of media a Qwen3-VL prompt can hold. Each has its own placeholder
// token (<|image_pad|>, <|video_pad|>) and its own preprocessing; the vision
// tower and the decoder treat both alike.
#pragma once

namespace qwen3vl {

enum class MediaKind { Image, Video };

inline const char* media_kind_name(MediaKind kind) { return kind == MediaKind::Image ? "image" : "video"; }

}  // namespace qwen3vl
