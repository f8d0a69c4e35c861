#include "server/chat_response.h"

#include <random>

namespace qwen3vl::server {

std::string new_completion_id() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string id = "chatcmpl-";
  for (int i = 0; i < 24; ++i) id += hex[rng() & 15];
  return id;
}

Json usage_json(const Usage& u) {
  return Json{{"prompt_tokens", u.prompt_tokens},
              {"completion_tokens", u.completion_tokens},
              {"total_tokens", u.prompt_tokens + u.completion_tokens},
              {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens}}}};
}

namespace {

Json tool_call_json(const ToolCall& c) {
  return Json{{"id", c.id}, {"type", "function"}, {"function", {{"name", c.name}, {"arguments", c.arguments}}}};
}

Json head(const CompletionIdentity& who, const char* object) {
  return Json{{"id", who.id}, {"object", object}, {"created", who.created}, {"model", who.model}};
}

}  // namespace

Json completion_json(const CompletionIdentity& who, const AssistantOutputParser& m, const std::string& finish_reason,
                     const Usage& usage) {
  Json message = {{"role", "assistant"}};
  const bool only_calls = m.content().empty() && !m.tool_calls().empty();
  message["content"] = only_calls ? Json(nullptr) : Json(m.content());
  if (!m.reasoning().empty()) message["reasoning_content"] = m.reasoning();
  if (!m.tool_calls().empty()) {
    Json calls = Json::array();
    for (const auto& c : m.tool_calls()) calls.push_back(tool_call_json(c));
    message["tool_calls"] = calls;
  }
  Json out = head(who, "chat.completion");
  out["choices"] = Json::array({Json{{"index", 0}, {"message", message}, {"logprobs", nullptr},
                                     {"finish_reason", finish_reason}}});
  out["usage"] = usage_json(usage);
  return out;
}

Json delta_json(const AssistantDelta& d) {
  Json delta = Json::object();
  if (!d.reasoning.empty()) delta["reasoning_content"] = d.reasoning;
  if (!d.content.empty()) delta["content"] = d.content;
  if (!d.tool_calls.empty()) {
    Json calls = Json::array();
    for (const auto& t : d.tool_calls) {
      Json c = {{"index", t.index}};
      if (t.starts) {
        c["id"] = t.id;
        c["type"] = "function";
        c["function"] = {{"name", t.name}, {"arguments", t.arguments}};
      } else {
        c["function"] = {{"arguments", t.arguments}};
      }
      calls.push_back(c);
    }
    delta["tool_calls"] = calls;
  }
  return delta;
}

Json chunk_json(const CompletionIdentity& who, const Json& delta, const Json& finish_reason) {
  Json out = head(who, "chat.completion.chunk");
  out["choices"] = Json::array({Json{{"index", 0}, {"delta", delta}, {"logprobs", nullptr},
                                     {"finish_reason", finish_reason}}});
  return out;
}

Json usage_chunk_json(const CompletionIdentity& who, const Usage& usage) {
  Json out = head(who, "chat.completion.chunk");
  out["choices"] = Json::array();
  out["usage"] = usage_json(usage);
  return out;
}

std::string dump_json(const Json& value) { return value.dump(-1, ' ', false, Json::error_handler_t::replace); }

std::string sse_event(const Json& value) { return "data: " + dump_json(value) + "\n\n"; }

}  // namespace qwen3vl::server
