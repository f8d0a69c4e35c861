// Conversions between template values and JSON: messages/tools arrive as JSON,
// and the `tojson` filter must print exactly what transformers prints, which
// is Python's json.dumps(x, ensure_ascii=False) unless the template asks for
// other options.
#pragma once
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

// Key order of objects is kept as given (use ordered_json to keep the file's order).
Value value_from_json(const nlohmann::ordered_json& json);

struct JsonDumpOptions {
  bool ensure_ascii = false;
  std::optional<std::string> indent;  // json.dumps' indent, already turned into a string
  std::string item_separator = ", ";   // json.dumps' default; ',' when indenting
  std::string key_separator = ": ";
  bool sort_keys = false;
};

// json.dumps(value, ...). Throws Failure for values JSON cannot hold
// (undefined, namespaces, functions), as Python raises TypeError.
std::string json_dumps(const Value& value, const JsonDumpOptions& options);

}  // namespace qwen3vl::jinja
