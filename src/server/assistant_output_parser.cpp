#include "server/assistant_output_parser.h"

#include <random>

#include "qwen3vl/base/json.h"

namespace qwen3vl::server {

namespace {

constexpr std::string_view kThinkOpen = "<think>";
constexpr std::string_view kThinkClose = "</think>";
constexpr std::string_view kCallOpen = "<tool_call>";
constexpr std::string_view kCallClose = "</tool_call>";

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

// Length of the longest proper prefix of `tag` that `s` ends with.
size_t partial_tag(std::string_view s, std::string_view tag) {
  for (size_t k = std::min(s.size(), tag.size() - 1); k > 0; --k)
    if (s.substr(s.size() - k) == tag.substr(0, k)) return k;
  return 0;
}

size_t trim_space_end(std::string_view s, size_t end) {
  while (end > 0 && is_space(s[end - 1])) --end;
  return end;
}

std::string random_call_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string id = "call_";
  for (int i = 0; i < 24; ++i) id += alphabet[rng() % 62];
  return id;
}

// Reads `{"name": "<string>", "arguments": ` at the start of a tool-call
// block. Returns 1 with the name and the offset after it, 0 when the text so
// far is a prefix of such a header, -1 when it cannot become one.
int read_call_header(std::string_view s, std::string* name, size_t* end) {
  size_t i = 0;
  auto space = [&] { while (i < s.size() && is_space(s[i])) ++i; };
  // Matches `lit`; 0 if the text ends inside it.
  auto expect = [&](std::string_view lit) -> int {
    const size_t n = std::min(lit.size(), s.size() - i);
    if (s.substr(i, n) != lit.substr(0, n)) return -1;
    i += n;
    return n == lit.size() ? 1 : 0;
  };
  int r;
  space();
  if ((r = expect("{")) != 1) return r;
  space();
  if ((r = expect("\"name\"")) != 1) return r;
  space();
  if ((r = expect(":")) != 1) return r;
  space();
  if (i == s.size()) return 0;
  if (s[i] != '"') return -1;
  const size_t str_begin = i++;
  while (i < s.size() && s[i] != '"') i += s[i] == '\\' ? 2 : 1;
  if (i >= s.size()) return 0;
  ++i;
  const Json parsed = Json::parse(s.substr(str_begin, i - str_begin), nullptr, false);
  if (!parsed.is_string()) return -1;
  space();
  if ((r = expect(",")) != 1) return r;
  space();
  if ((r = expect("\"arguments\"")) != 1) return r;
  space();
  if ((r = expect(":")) != 1) return r;
  space();
  if (i == s.size()) return 0;  // wait for the first character of the value
  *name = parsed.get<std::string>();
  *end = i;
  return 1;
}

}  // namespace

bool prompt_opens_reasoning(std::string_view prompt) {
  const size_t end = trim_space_end(prompt, prompt.size());
  return end >= kThinkOpen.size() && prompt.substr(end - kThinkOpen.size(), kThinkOpen.size()) == kThinkOpen;
}

AssistantOutputParser::AssistantOutputParser(Options options) : options_(std::move(options)) {
  if (!options_.new_call_id) options_.new_call_id = random_call_id;
  mode_ = options_.starts_in_reasoning ? Mode::Reasoning : Mode::Start;
  trim_leading_ = options_.starts_in_reasoning;
}

AssistantDelta AssistantOutputParser::push(std::string_view text) {
  pending_.append(text);
  return drain(false);
}

AssistantDelta AssistantOutputParser::finish() { return drain(true); }

void AssistantOutputParser::emit_reasoning(AssistantDelta& d, std::string_view s) {
  d.reasoning.append(s);
  reasoning_.append(s);
}

void AssistantOutputParser::emit_content(AssistantDelta& d, std::string_view s) {
  d.content.append(s);
  content_.append(s);
}

bool AssistantOutputParser::skip_leading_space(bool final) {
  if (!trim_leading_) return true;
  size_t k = 0;
  while (k < pending_.size() && is_space(pending_[k])) ++k;
  pending_.erase(0, k);
  if (pending_.empty()) return final;
  trim_leading_ = false;
  return true;
}

AssistantDelta AssistantOutputParser::drain(bool final) {
  AssistantDelta d;
  for (;;) {
    switch (mode_) {
      case Mode::Start: {
        // A model may open its own <think> block as its very first output.
        size_t k = 0;
        while (k < pending_.size() && is_space(pending_[k])) ++k;
        const std::string_view rest = std::string_view(pending_).substr(k);
        if (rest.substr(0, kThinkOpen.size()) == kThinkOpen) {
          pending_.erase(0, k + kThinkOpen.size());
          mode_ = Mode::Reasoning;
          trim_leading_ = true;
          continue;
        }
        if (!final && kThinkOpen.substr(0, rest.size()) == rest) return d;  // could still be "<think>"
        mode_ = Mode::Content;
        continue;
      }
      case Mode::Reasoning: {
        if (!skip_leading_space(final)) return d;
        const size_t pos = pending_.find(kThinkClose);
        if (pos != std::string::npos) {
          emit_reasoning(d, std::string_view(pending_).substr(0, trim_space_end(pending_, pos)));
          pending_.erase(0, pos + kThinkClose.size());
          mode_ = Mode::Content;
          trim_leading_ = true;
          continue;
        }
        // Unfinished thinking stays reasoning; trailing space waits to see
        // whether "</think>" follows it.
        const size_t cut = final ? trim_space_end(pending_, pending_.size())
                                 : trim_space_end(pending_, pending_.size() - partial_tag(pending_, kThinkClose));
        emit_reasoning(d, std::string_view(pending_).substr(0, cut));
        pending_.erase(0, final ? pending_.size() : cut);
        return d;
      }
      case Mode::Content: {
        if (!skip_leading_space(final)) return d;
        if (options_.parse_tool_calls) {
          const size_t pos = pending_.find(kCallOpen);
          if (pos != std::string::npos) {
            // Space between the text and the call is layout, not content.
            emit_content(d, std::string_view(pending_).substr(0, trim_space_end(pending_, pos)));
            pending_.erase(0, pos + kCallOpen.size());
            mode_ = Mode::ToolCall;
            call_ = OpenCall{};
            continue;
          }
        }
        if (final) {
          emit_content(d, pending_);
          pending_.clear();
          return d;
        }
        size_t cut = pending_.size();
        if (options_.parse_tool_calls) cut = trim_space_end(pending_, cut - partial_tag(pending_, kCallOpen));
        emit_content(d, std::string_view(pending_).substr(0, cut));
        pending_.erase(0, cut);
        return d;
      }
      case Mode::ToolCall: {
        const size_t pos = pending_.find(kCallClose);
        if (pos != std::string::npos) {
          finish_call(pending_.substr(0, pos), true, d);
          pending_.erase(0, pos + kCallClose.size());
          mode_ = Mode::Content;
          trim_leading_ = true;
          continue;
        }
        if (final) {
          finish_call(pending_, false, d);
          pending_.clear();
          mode_ = Mode::Content;
          return d;
        }
        stream_call(pending_, d);
        return d;
      }
    }
  }
}

void AssistantOutputParser::send_arguments(std::string_view text, AssistantDelta& d) {
  if (text.empty()) return;
  ToolCall& call = calls_.back();
  call.arguments.append(text);
  if (!d.tool_calls.empty() && d.tool_calls.back().index == static_cast<int>(calls_.size()) - 1) {
    d.tool_calls.back().arguments.append(text);
  } else {
    ToolCallDelta td;
    td.index = static_cast<int>(calls_.size()) - 1;
    td.arguments = std::string(text);
    d.tool_calls.push_back(std::move(td));
  }
  call_.args_sent += text.size();
}

void AssistantOutputParser::stream_call(const std::string& block, AssistantDelta& d) {
  if (call_.header_failed) return;
  if (!call_.started) {
    std::string name;
    size_t end = 0;
    const int r = read_call_header(block, &name, &end);
    if (r < 0) call_.header_failed = true;
    if (r != 1) return;
    call_.started = true;
    call_.args_begin = end;
    calls_.push_back({options_.new_call_id(), name, ""});
    ToolCallDelta td;
    td.index = static_cast<int>(calls_.size()) - 1;
    td.starts = true;
    td.id = calls_.back().id;
    td.name = name;
    d.tool_calls.push_back(std::move(td));
  }
  // Hold back a possible "</tool_call>" start, and the last '}' with the
  // space around it: it may close the wrapper object rather than the arguments.
  size_t safe = trim_space_end(block, block.size() - partial_tag(block, kCallClose));
  if (safe > 0 && block[safe - 1] == '}') safe = trim_space_end(block, safe - 1);
  const size_t sent_end = call_.args_begin + call_.args_sent;
  if (safe > sent_end) send_arguments(std::string_view(block).substr(sent_end, safe - sent_end), d);
}

void AssistantOutputParser::finish_call(const std::string& block, bool closed, AssistantDelta& d) {
  stream_call(block, d);
  if (call_.started) {
    // The rest of the arguments: the block up to the wrapper's closing brace.
    size_t end = trim_space_end(block, block.size());
    if (end > call_.args_begin && block[end - 1] == '}') end = trim_space_end(block, end - 1);
    const size_t sent_end = call_.args_begin + call_.args_sent;
    if (end > sent_end) send_arguments(std::string_view(block).substr(sent_end, end - sent_end), d);
    return;
  }
  const Json parsed = Json::parse(block, nullptr, false);
  if (parsed.is_object() && parsed.contains("name") && parsed["name"].is_string() && parsed.contains("arguments")) {
    const Json& args = parsed["arguments"];
    calls_.push_back({options_.new_call_id(), parsed["name"].get<std::string>(), ""});
    ToolCallDelta td;
    td.index = static_cast<int>(calls_.size()) - 1;
    td.starts = true;
    td.id = calls_.back().id;
    td.name = calls_.back().name;
    d.tool_calls.push_back(std::move(td));
    call_.started = true;
    send_arguments(args.is_string() ? args.get<std::string>() : args.dump(), d);
    return;
  }
  // Not a call after all: the text goes out as the model wrote it.
  emit_content(d, std::string(kCallOpen) + block + (closed ? std::string(kCallClose) : std::string()));
}

}  // namespace qwen3vl::server
