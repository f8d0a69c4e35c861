// A checkpoint's own chat template, rendered the way transformers'
// apply_chat_template renders it (Jinja2 with trim_blocks and lstrip_blocks,
// transformers' tojson, raise_exception and strftime_now), so that prompts
// come out byte-identical to the Python reference.
//
// Variables seen by the template: `messages`, `add_generation_prompt`,
// `tools` and `documents` (none unless given), the special tokens from
// tokenizer_config.json (bos_token, eos_token, unk_token, pad_token) when
// loaded from a directory, and every key of `extra` (add_vision_id,
// enable_thinking, tools, ...), which take precedence.
//
// `tojson` prints object keys in the order it receives them; Json keeps the
// order they were written in, as Python dicts do.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

namespace jinja {
struct Statement;
}

using OrderedJson = Json;  // Json keeps insertion order (base/json.h)

class ChatTemplate {
 public:
  // Looks in `dir` for chat_template.json ({"chat_template": "..."}), then
  // chat_template.jinja, then tokenizer_config.json's "chat_template" (a
  // string, or a list of {name, template} of which "default" is used).
  // Throws Error naming the directory if none has a template.
  static ChatTemplate load_from_dir(const std::string& dir);

  // Parses `source` now: syntax errors, unknown tags, filters and tests throw
  // Error naming `origin`, the line and the column.
  explicit ChatTemplate(std::string source, std::string origin = "<string>");

  // A template source plus tokenizer_config.json text (may be empty) for the
  // special-token variables, as load_from_dir finds them in a directory; for
  // models whose files are held in memory (a qwen3vl model file).
  static ChatTemplate from_parts(std::string source, std::string origin, std::string_view tokenizer_config,
                                 const std::string& tokenizer_config_origin);

  std::string render(const OrderedJson& messages, bool add_generation_prompt,
                     const OrderedJson& extra = OrderedJson::object()) const;

  const std::string& source() const { return source_; }
  const std::string& origin() const { return origin_; }
  // Variables every render sees unless `extra` overrides them (e.g. bos_token).
  void set_default_variable(const std::string& name, const OrderedJson& value);
  // Sets bos_token, eos_token, unk_token and pad_token from a parsed
  // tokenizer_config.json (plain strings or {"content": ...} objects).
  void set_special_tokens_from(const OrderedJson& tokenizer_config);

 private:
  std::string source_;
  std::string origin_;
  std::shared_ptr<const std::vector<std::unique_ptr<jinja::Statement>>> body_;
  OrderedJson defaults_ = OrderedJson::object();
};

}  // namespace qwen3vl
