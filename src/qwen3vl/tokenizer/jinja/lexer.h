// Splits a Jinja template into tokens: literal text between tags, tag
// delimiters, and the expression tokens inside tags. Whitespace control is
// resolved here, configured as transformers configures its Jinja environment
// (trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=False):
//   - `{%-`, `{{-`, `{#-` strip all whitespace before the tag; `-%}`, `-}}`,
//     `-#}` strip all whitespace after it;
//   - trim_blocks drops the first newline after a `%}` or `#}`;
//   - lstrip_blocks drops spaces/tabs between a line start and `{%` / `{#`;
//   - `{%+` / `+%}` switch lstrip_blocks / trim_blocks off for one tag.
// Comments are dropped entirely.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/tokenizer/jinja/failure.h"

namespace qwen3vl::jinja {

struct Token {
  enum class Type { Text, VariableBegin, VariableEnd, BlockBegin, BlockEnd, Name, String, Integer, Float, Operator, End };
  Type type;
  std::string text;  // text/name/operator; a string literal already unescaped; a number's digits
  SourcePosition position;
};

// `origin` names the template (usually its file) in syntax errors.
std::vector<Token> tokenize_template(const std::string& source, const std::string& origin);

}  // namespace qwen3vl::jinja
