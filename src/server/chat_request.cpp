#include "server/chat_request.h"

#include <cmath>
#include <limits>

#include "server/api_error.h"

namespace qwen3vl::server {

namespace {

const char* type_name(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number()) return "a number";
  if (v.is_string()) return "a string";
  if (v.is_array()) return "an array";
  return "an object";
}

// Absent and null both mean "not given", as in OpenAI's SDKs.
const Json* field(const Json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

double number_in(const Json& body, const char* key, double lo, double hi, bool lo_open = false) {
  const Json& v = *field(body, key);
  if (!v.is_number())
    throw invalid_request(std::string("'") + key + "' must be a number, not " + type_name(v), key, "invalid_type");
  const double x = v.get<double>();
  if (!std::isfinite(x) || x < lo || x > hi || (lo_open && x == lo))
    throw invalid_request(std::string("'") + key + "' must be in " + (lo_open ? "(" : "[") + std::to_string(lo) +
                              ", " + std::to_string(hi) + "], got " + v.dump(),
                          key, "invalid_value");
  return x;
}

int64_t integer_in(const Json& body, const char* key, int64_t lo, int64_t hi) {
  const Json& v = *field(body, key);
  if (!v.is_number_integer())
    throw invalid_request(std::string("'") + key + "' must be an integer, not " + type_name(v), key, "invalid_type");
  // Unsigned values above int64's range arrive as number_unsigned.
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi))
    throw invalid_request(std::string("'") + key + "' is too large", key, "invalid_value");
  const int64_t x = v.get<int64_t>();
  if (x < lo || x > hi)
    throw invalid_request(std::string("'") + key + "' must be between " + std::to_string(lo) + " and " +
                              std::to_string(hi) + ", got " + std::to_string(x),
                          key, "invalid_value");
  return x;
}

bool boolean(const Json& body, const char* key) {
  const Json& v = *field(body, key);
  if (!v.is_boolean())
    throw invalid_request(std::string("'") + key + "' must be a boolean, not " + type_name(v), key, "invalid_type");
  return v.get<bool>();
}

std::string function_name_of_tool(const Json& tool, size_t i) {
  const std::string where = "tools[" + std::to_string(i) + "]";
  if (!tool.is_object()) throw invalid_request(where + " must be an object", "tools");
  if (tool.value("type", "function") != "function")
    throw invalid_request(where + ": only tools of type \"function\" are supported", "tools");
  auto fn = tool.find("function");
  if (fn == tool.end() || !fn->is_object()) throw invalid_request(where + " has no \"function\" object", "tools");
  auto name = fn->find("name");
  if (name == fn->end() || !name->is_string() || name->get<std::string>().empty())
    throw invalid_request(where + ".function has no \"name\" string", "tools");
  if (fn->contains("parameters") && !(*fn)["parameters"].is_object())
    throw invalid_request(where + ".function.parameters must be a JSON Schema object", "tools");
  return name->get<std::string>();
}

Json checked_messages(const Json& body) {
  const Json* m = field(body, "messages");
  if (!m) throw invalid_request("'messages' is required", "messages", "missing_required_parameter");
  if (!m->is_array()) throw invalid_request(std::string("'messages' must be an array, not ") + type_name(*m), "messages");
  if (m->empty()) throw invalid_request("'messages' must not be empty", "messages");
  Json out = *m;
  for (size_t i = 0; i < out.size(); ++i) {
    Json& msg = out[i];
    const std::string where = "messages[" + std::to_string(i) + "]";
    if (!msg.is_object()) throw invalid_request(where + " must be an object", "messages");
    auto role = msg.find("role");
    if (role == msg.end() || !role->is_string()) throw invalid_request(where + " has no \"role\" string", "messages");
    if (*role == "developer") *role = "system";  // newer SDKs' name for the system role
    if (msg.contains("tool_calls") && !msg["tool_calls"].is_null()) {
      const Json& calls = msg["tool_calls"];
      if (*role != "assistant") throw invalid_request(where + ": only assistant messages carry tool_calls", "messages");
      if (!calls.is_array()) throw invalid_request(where + ".tool_calls must be an array", "messages");
      for (size_t k = 0; k < calls.size(); ++k) {
        const Json& c = calls[k];
        const std::string cw = where + ".tool_calls[" + std::to_string(k) + "]";
        if (!c.is_object() || !c.contains("function") || !c["function"].is_object())
          throw invalid_request(cw + " has no \"function\" object", "messages");
        const Json& f = c["function"];
        if (!f.contains("name") || !f["name"].is_string()) throw invalid_request(cw + ".function has no \"name\"", "messages");
        if (f.contains("arguments") && !f["arguments"].is_string() && !f["arguments"].is_object())
          throw invalid_request(cw + ".function.arguments must be a JSON string", "messages");
      }
    }
  }
  return out;
}

}  // namespace

ChatRequest parse_chat_request(const Json& body, int64_t max_context, uint64_t random_seed) {
  if (!body.is_object()) throw invalid_request(std::string("the request body must be a JSON object, not ") + type_name(body));
  ChatRequest r;
  if (const Json* m = field(body, "model")) {
    if (!m->is_string()) throw invalid_request("'model' must be a string", "model", "invalid_type");
    r.model = m->get<std::string>();
  }
  r.messages = checked_messages(body);

  GenerateOptions& o = r.options;
  const int64_t max_tokens_cap = std::max<int64_t>(1, max_context);
  o.max_tokens = static_cast<int>(std::min<int64_t>(max_tokens_cap, std::numeric_limits<int>::max()));
  for (const char* key : {"max_tokens", "max_completion_tokens"})
    if (field(body, key))
      o.max_tokens = static_cast<int>(std::min<int64_t>(integer_in(body, key, 1, std::numeric_limits<int>::max()),
                                                        max_tokens_cap));
  if (field(body, "n") && integer_in(body, "n", 1, 128) != 1)
    throw invalid_request("only n = 1 is supported", "n", "unsupported_value");

  SamplingOptions& s = o.sampling;
  if (field(body, "temperature")) s.temperature = static_cast<float>(number_in(body, "temperature", 0, 2));
  if (field(body, "top_p")) {
    const double p = number_in(body, "top_p", 0, 1);
    if (p == 0) s.top_k = 1;  // keep only the most likely token
    else s.top_p = static_cast<float>(p);
  }
  if (field(body, "top_k")) s.top_k = static_cast<int>(integer_in(body, "top_k", 0, 1 << 30));
  if (field(body, "min_p")) s.min_p = static_cast<float>(number_in(body, "min_p", 0, 1));
  if (field(body, "presence_penalty")) s.presence_penalty = static_cast<float>(number_in(body, "presence_penalty", -2, 2));
  if (field(body, "frequency_penalty"))
    s.frequency_penalty = static_cast<float>(number_in(body, "frequency_penalty", -2, 2));
  if (field(body, "repetition_penalty"))
    s.repetition_penalty = static_cast<float>(number_in(body, "repetition_penalty", 0, 10, true));
  s.seed = random_seed;
  if (field(body, "seed"))
    s.seed = static_cast<uint64_t>(
        integer_in(body, "seed", std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max()));

  if (const Json* stop = field(body, "stop")) {
    if (stop->is_string()) {
      o.stop.push_back(stop->get<std::string>());
    } else if (stop->is_array()) {
      if (stop->size() > 16) throw invalid_request("'stop' holds at most 16 strings", "stop");
      for (const Json& x : *stop) {
        if (!x.is_string()) throw invalid_request("'stop' must be a string or an array of strings", "stop", "invalid_type");
        o.stop.push_back(x.get<std::string>());
      }
    } else {
      throw invalid_request("'stop' must be a string or an array of strings", "stop", "invalid_type");
    }
  }

  if (field(body, "stream")) r.stream = boolean(body, "stream");
  if (const Json* so = field(body, "stream_options")) {
    if (!so->is_object()) throw invalid_request("'stream_options' must be an object", "stream_options", "invalid_type");
    if (field(*so, "include_usage")) r.include_usage = boolean(*so, "include_usage");
  }
  if (field(body, "logprobs") && boolean(body, "logprobs"))
    throw invalid_request("logprobs are not supported", "logprobs", "unsupported_parameter");
  if (const Json* rf = field(body, "response_format")) {
    if (!rf->is_object() || !rf->contains("type") || !(*rf)["type"].is_string())
      throw invalid_request("'response_format' must be an object with a \"type\"", "response_format");
    if ((*rf)["type"] != "text")
      throw invalid_request("response_format " + (*rf)["type"].dump() + " is not supported (only \"text\")",
                            "response_format", "unsupported_value");
  }

  // Template variables: chat_template_kwargs pass through; tools go in as the
  // template expects them (the OpenAI objects, as transformers passes them).
  o.template_extra = Json::object();
  if (const Json* kw = field(body, "chat_template_kwargs")) {
    if (!kw->is_object())
      throw invalid_request("'chat_template_kwargs' must be an object", "chat_template_kwargs", "invalid_type");
    for (auto it = kw->begin(); it != kw->end(); ++it) o.template_extra[it.key()] = it.value();
  }
  Json tools = Json::array();
  if (const Json* t = field(body, "tools")) {
    if (!t->is_array()) throw invalid_request("'tools' must be an array", "tools", "invalid_type");
    tools = *t;
  }
  std::vector<std::string> names;
  for (size_t i = 0; i < tools.size(); ++i) names.push_back(function_name_of_tool(tools[i], i));
  if (const Json* choice = field(body, "tool_choice")) {
    if (choice->is_string()) {
      const std::string c = choice->get<std::string>();
      if (c == "none") tools = Json::array();
      else if (c != "auto" && c != "required")
        throw invalid_request("'tool_choice' must be \"none\", \"auto\", \"required\" or a function", "tool_choice");
      if (c == "required" && tools.empty()) throw invalid_request("tool_choice \"required\" needs tools", "tool_choice");
    } else if (choice->is_object() && choice->contains("function") && (*choice)["function"].is_object() &&
               (*choice)["function"].contains("name") && (*choice)["function"]["name"].is_string()) {
      // A named function: offer only that one.
      const std::string want = (*choice)["function"]["name"];
      Json only = Json::array();
      for (size_t i = 0; i < tools.size(); ++i)
        if (names[i] == want) only.push_back(tools[i]);
      if (only.empty()) throw invalid_request("tool_choice names \"" + want + "\", which is not in 'tools'", "tool_choice");
      tools = only;
    } else {
      throw invalid_request("'tool_choice' must be a string or {\"type\": \"function\", \"function\": {\"name\": ...}}",
                            "tool_choice", "invalid_type");
    }
  }
  if (!tools.empty()) {
    o.template_extra["tools"] = tools;
    r.parse_tool_calls = true;
  }
  return r;
}

}  // namespace qwen3vl::server
