#include "qwen3vl/tokenizer/chat_template.h"

#include <optional>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/tokenizer/jinja/interpreter.h"
#include "qwen3vl/tokenizer/jinja/lexer.h"
#include "qwen3vl/tokenizer/jinja/parser.h"
#include "qwen3vl/tokenizer/jinja/value_json.h"

namespace qwen3vl {
namespace {

// tokenizer_config.json's chat_template: a string or [{name, template}, ...].
std::string template_from_tokenizer_config(const OrderedJson& value, const std::string& path) {
  if (value.is_string()) return value.get<std::string>();
  if (value.is_array()) {
    std::string names;
    for (const auto& entry : value) {
      if (!entry.is_object() || !entry.contains("name") || !entry.contains("template")) continue;
      if (entry["name"] == "default" && entry["template"].is_string()) return entry["template"].get<std::string>();
      names += (names.empty() ? "" : ", ") + entry["name"].dump();
    }
    throw Error(path + ": chat_template list has no \"default\" template (has: " + names + ")");
  }
  throw Error(path + ": chat_template must be a string or a list of {name, template}");
}

// transformers passes special tokens as plain strings; the config may store
// them as AddedToken objects {"content": ...}.
std::optional<std::string> special_token_text(const OrderedJson& config, const char* key) {
  if (!config.contains(key)) return std::nullopt;
  const OrderedJson& token = config[key];
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object() && token.contains("content") && token["content"].is_string())
    return token["content"].get<std::string>();
  return std::nullopt;
}

}  // namespace

ChatTemplate ChatTemplate::load_from_dir(const std::string& dir) {
  const std::string json_path = dir + "/chat_template.json";
  const std::string jinja_path = dir + "/chat_template.jinja";
  const std::string config_path = dir + "/tokenizer_config.json";
  OrderedJson config;
  if (file_exists(config_path)) config = load_json_file(config_path);

  std::optional<ChatTemplate> result;
  if (file_exists(json_path)) {
    OrderedJson wrapper = load_json_file(json_path);
    if (!wrapper.is_object() || !wrapper.contains("chat_template") || !wrapper["chat_template"].is_string())
      throw Error(json_path + ": expected {\"chat_template\": \"...\"}");
    result.emplace(wrapper["chat_template"].get<std::string>(), json_path);
  } else if (file_exists(jinja_path)) {
    result.emplace(read_text_file(jinja_path), jinja_path);
  } else if (config.is_object() && config.contains("chat_template")) {
    result.emplace(template_from_tokenizer_config(config["chat_template"], config_path), config_path);
  } else {
    throw Error("no chat template in " + dir +
                " (looked for chat_template.json, chat_template.jinja and \"chat_template\" in tokenizer_config.json)");
  }
  if (config.is_object()) result->set_special_tokens_from(config);
  return std::move(*result);
}

ChatTemplate ChatTemplate::from_parts(std::string source, std::string origin, std::string_view tokenizer_config,
                                      const std::string& tokenizer_config_origin) {
  ChatTemplate result(std::move(source), std::move(origin));
  if (!tokenizer_config.empty()) {
    const OrderedJson config = parse_json(tokenizer_config, tokenizer_config_origin);
    if (config.is_object()) result.set_special_tokens_from(config);
  }
  return result;
}

void ChatTemplate::set_special_tokens_from(const OrderedJson& tokenizer_config) {
  for (const char* key : {"bos_token", "eos_token", "unk_token", "pad_token"})
    if (auto text = special_token_text(tokenizer_config, key)) set_default_variable(key, *text);
}

ChatTemplate::ChatTemplate(std::string source, std::string origin)
    : source_(std::move(source)), origin_(std::move(origin)) {
  std::vector<jinja::Token> tokens = jinja::tokenize_template(source_, origin_);
  body_ = std::make_shared<const jinja::Body>(jinja::parse_template(tokens, origin_));
}

void ChatTemplate::set_default_variable(const std::string& name, const OrderedJson& value) { defaults_[name] = value; }

std::string ChatTemplate::render(const OrderedJson& messages, bool add_generation_prompt,
                                 const OrderedJson& extra) const {
  if (!extra.is_object()) throw Error("chat template " + origin_ + ": extra variables must be a JSON object");
  // value_from_json recurses once per level.
  check_json_depth(messages, "chat template messages");
  check_json_depth(extra, "chat template variables");
  jinja::Dict variables;
  variables.set("messages", jinja::value_from_json(messages));
  variables.set("add_generation_prompt", jinja::Value(add_generation_prompt));
  variables.set("tools", jinja::Value::none());
  variables.set("documents", jinja::Value::none());
  for (auto it = defaults_.begin(); it != defaults_.end(); ++it)
    variables.set(it.key(), jinja::value_from_json(it.value()));
  for (auto it = extra.begin(); it != extra.end(); ++it) variables.set(it.key(), jinja::value_from_json(it.value()));
  return jinja::render_template(*body_, origin_, variables);
}

}  // namespace qwen3vl
