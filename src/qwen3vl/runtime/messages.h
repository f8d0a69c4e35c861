// Chat messages as users and the OpenAI API write them, checked and put in
// the shape chat templates expect; media references collected in order.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/model/media_kind.h"

namespace qwen3vl {

struct MediaReference {
  MediaKind kind = MediaKind::Image;
  std::string source;  // a file path or a data: URI
  Json part;           // the normalized content part (per-medium options live here)
};

struct NormalizedMessages {
  Json messages;                      // template-ready
  std::vector<MediaReference> media;  // in the order the template emits them
};

// Accepts a JSON array of {role, content} where content is a string or a list
// of parts: {"type":"text","text":...}, {"type":"image","image":PATH},
// {"type":"image_url","image_url":{"url":...}} (or "image_url": "..."),
// {"type":"video","video":PATH, data: URI or [frame PATHs]} with optional
// "fps" or "num_frames", {"type":"video_url","video_url":{"url":...}}.
// Relative media paths are resolved against `base_dir` when it is non-empty. Throws Error naming the message
// index and the problem.
NormalizedMessages normalize_messages(const Json& messages, const std::string& base_dir = "");

// Builds the messages for the common CLI case: optional system text, then one
// user turn holding the images, then the videos, then the text.
Json make_user_messages(const std::string& system, const std::vector<std::string>& images, const std::string& text,
                        const std::vector<std::string>& videos = {});

}  // namespace qwen3vl
