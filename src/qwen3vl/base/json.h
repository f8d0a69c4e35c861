// JSON is nlohmann::json throughout; this header adds the parse helper that
// turns syntax errors into an Error naming the file.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

namespace qwen3vl {

// ordered_json keeps keys in the order written: chat templates print tools and
// arguments with tojson, and transformers keeps insertion order there.
using Json = nlohmann::ordered_json;

// Parses `text`; `what` names the source (usually a path) in the error.
Json parse_json(const std::string& text, const std::string& what);
// Reads and parses a JSON file.
Json load_json_file(const std::string& path);

}  // namespace qwen3vl
