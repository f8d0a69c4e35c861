// Splits what the model writes into the parts of an OpenAI assistant message,
// incrementally, so streams can carry them as deltas:
//   <think> ... </think>          -> reasoning_content (Thinking models; the
//                                    template usually opens the block itself)
//   <tool_call>{"name": N, "arguments": {...}}</tool_call>
//                                 -> tool_calls[i] {id, function {name, arguments}}
//   everything else               -> content
// Text that could still turn into a tag (a trailing "<tool_c") is held back
// until the next piece decides it. A tool call's name is sent as soon as it
// has been read and its arguments follow as they arrive; a block that is not
// a valid call is passed through as content, unchanged.
#pragma once
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl::server {

struct ToolCall {
  std::string id, name;
  std::string arguments;  // JSON text of the arguments object
};

struct ToolCallDelta {
  int index = 0;
  bool starts = false;  // first delta of this call: carries id and name
  std::string id, name;
  std::string arguments;  // the next piece of the arguments text
};

struct AssistantDelta {
  std::string reasoning, content;
  std::vector<ToolCallDelta> tool_calls;
  bool empty() const { return reasoning.empty() && content.empty() && tool_calls.empty(); }
};

class AssistantOutputParser {
 public:
  struct Options {
    bool starts_in_reasoning = false;  // the prompt ends inside an open <think>
    bool parse_tool_calls = false;     // tools were offered
    std::function<std::string()> new_call_id;  // default: "call_" + 24 random characters
  };
  explicit AssistantOutputParser(Options options);

  // Adds the next piece of generated text (complete UTF-8).
  AssistantDelta push(std::string_view text);
  // Generation ended: everything held back is decided now.
  AssistantDelta finish();

  // The whole message so far.
  const std::string& reasoning() const { return reasoning_; }
  const std::string& content() const { return content_; }
  const std::vector<ToolCall>& tool_calls() const { return calls_; }

 private:
  enum class Mode { Start, Reasoning, Content, ToolCall };
  struct OpenCall {
    bool started = false;       // id and name sent
    bool header_failed = false; // not {"name": ..., "arguments": ...} in that order: parse at the end
    size_t args_begin = 0;      // offset of the arguments text in the block
    size_t args_sent = 0;       // bytes of it already sent
  };

  AssistantDelta drain(bool final);
  bool skip_leading_space(bool final);  // false: wait for more text
  void emit_reasoning(AssistantDelta& d, std::string_view s);
  void emit_content(AssistantDelta& d, std::string_view s);
  void stream_call(const std::string& block, AssistantDelta& d);
  void finish_call(const std::string& block, bool closed, AssistantDelta& d);
  void send_arguments(std::string_view text, AssistantDelta& d);

  Options options_;
  Mode mode_;
  bool trim_leading_ = false;
  std::string pending_;
  OpenCall call_;
  std::string reasoning_, content_;
  std::vector<ToolCall> calls_;
};

// True when the rendered prompt leaves the model inside a <think> block
// (Thinking templates end the generation prompt with "<think>\n").
bool prompt_opens_reasoning(std::string_view prompt);

}  // namespace qwen3vl::server
