// Request bodies are untrusted: parse them with a nesting limit so a body of
// a million '[' is refused while parsing, before anything walks the tree.
#pragma once
#include <string_view>

#include "qwen3vl/base/json.h"

namespace qwen3vl::server {

// Throws ApiError 400 naming the syntax error (with its byte offset) or the
// nesting limit.
Json parse_request_json(std::string_view body, int max_depth);

}  // namespace qwen3vl::server
