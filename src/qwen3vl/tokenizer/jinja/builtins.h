// Jinja's built-in filters and tests, and the Python methods of str, dict and
// list that chat templates call (`content.split('</think>')`, `d.get(k)`).
// Filter and test names are checked when the template is parsed.
#pragma once
#include <optional>
#include <string>

#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

bool is_known_filter(const std::string& name);
bool is_known_test(const std::string& name);

// Both throw Failure on bad arguments or operand types.
Value apply_filter(const std::string& name, const Value& input, CallArguments& arguments);
bool apply_test(const std::string& name, const Value& value, CallArguments& arguments);

// object.name(arguments) for a built-in method; nullopt if `object` has no
// method of that name (the caller then treats it as an attribute).
std::optional<Value> call_method(const Value& object, const std::string& name, CallArguments& arguments);

// Values the interpreter and the filters share.
std::string describe_undefined(const Value& undefined);
// Iterates like Python's iter(): list items, dict keys, string characters;
// undefined iterates as empty. Throws Failure for anything else.
List iterate(const Value& value);
// Python's `<` for numbers, strings and lists; throws Failure otherwise.
bool python_less(const Value& a, const Value& b);
// Python's len(); throws Failure for values without a length.
int64_t python_len(const Value& value);

}  // namespace qwen3vl::jinja
