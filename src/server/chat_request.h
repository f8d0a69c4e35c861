// POST /v1/chat/completions bodies: the OpenAI schema checked field by field
// (wrong types and out-of-range values are 400s naming the field; unknown
// fields are ignored, as OpenAI-compatible servers do) and translated into
// the library's messages and GenerateOptions.
#pragma once
#include <string>

#include "qwen3vl/qwen3vl.h"

namespace qwen3vl::server {

struct ChatRequest {
  std::string model;        // as sent (echoed back)
  Json messages;            // OpenAI messages; "developer" role folded into "system"
  GenerateOptions options;  // sampling, stop strings, max tokens, template variables (tools, kwargs)
  bool stream = false;
  bool include_usage = false;     // stream_options.include_usage
  bool parse_tool_calls = false;  // tools offered (and tool_choice is not "none")
};

// `max_context` bounds max_tokens when the request gives none. `random_seed`
// is used when the request has no seed (OpenAI samples differently each time
// unless a seed is given). Throws ApiError.
ChatRequest parse_chat_request(const Json& body, int64_t max_context, uint64_t random_seed);

}  // namespace qwen3vl::server
