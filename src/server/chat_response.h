// The JSON the server answers with, in OpenAI's shapes: a whole
// chat.completion, the chat.completion.chunk objects of a stream (as SSE
// events), and the usage block.
#pragma once
#include <cstdint>
#include <string>

#include "qwen3vl/base/json.h"
#include "server/assistant_output_parser.h"

namespace qwen3vl::server {

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  int64_t cached_tokens = 0;  // prompt tokens whose KV cache was reused
};

// What every object of one completion shares.
struct CompletionIdentity {
  std::string id;       // "chatcmpl-..."
  std::string model;
  int64_t created = 0;  // Unix seconds
};

std::string new_completion_id();

Json usage_json(const Usage& usage);

// The whole answer. `content` is null when the model only called tools.
Json completion_json(const CompletionIdentity& who, const AssistantOutputParser& message,
                     const std::string& finish_reason, const Usage& usage);

// One stream chunk with a delta (role, content, reasoning_content, tool_calls).
Json chunk_json(const CompletionIdentity& who, const Json& delta, const Json& finish_reason = nullptr);
// The delta object for a parser delta (empty object when nothing changed).
Json delta_json(const AssistantDelta& d);
// The final usage chunk (stream_options.include_usage): no choices.
Json usage_chunk_json(const CompletionIdentity& who, const Usage& usage);

// "data: <json>\n\n"; invalid UTF-8 in the text is replaced, never fatal.
std::string sse_event(const Json& value);
inline constexpr char kSseDone[] = "data: [DONE]\n\n";

// Serialises a response body the same way (U+FFFD for invalid UTF-8).
std::string dump_json(const Json& value);

}  // namespace qwen3vl::server
