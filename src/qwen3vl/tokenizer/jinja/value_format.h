// How Python turns values into text: str() for template output and the `~`
// operator, repr() for containers printed whole, and float repr shared with
// the JSON writer. Byte-exact agreement with Python matters because rendered
// prompts are compared against transformers' output.
#pragma once
#include <string>

#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

// Python's repr(float): shortest round-trip digits, fixed notation for
// exponents in [-4, 16), otherwise "1.5e+16"; "nan", "inf", "-inf".
std::string python_float_repr(double value);

// str(value). Undefined renders as "" (Jinja's default Undefined).
std::string python_str(const Value& value);

// repr(value): strings quoted, lists "[1, 'a']", dicts "{'k': None}".
std::string python_repr(const Value& value);

// MarkupSafe's escape(): & < > " ' become entities.
std::string html_escape(const std::string& text);

}  // namespace qwen3vl::jinja
