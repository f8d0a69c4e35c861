// Builds the statement tree from tokens, following Jinja2's grammar and
// operator precedence (filters and `is` tests bind tighter than arithmetic:
// `a + b is string` is `a + (b is string)`, as in Jinja2). Unknown tags,
// filters and tests are rejected here, with their line and column, so a
// template that parses can only fail at render time on its data.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/tokenizer/jinja/ast.h"
#include "qwen3vl/tokenizer/jinja/lexer.h"

namespace qwen3vl::jinja {

Body parse_template(const std::vector<Token>& tokens, const std::string& origin);

}  // namespace qwen3vl::jinja
