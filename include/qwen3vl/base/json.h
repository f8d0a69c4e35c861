// JSON is nlohmann::json throughout; this header adds the one way to parse
// text we did not write ourselves: syntax errors become an Error naming the
// source, and nesting deeper than a fixed limit is refused before parsing.
// nlohmann's parser is iterative, but copying, dumping and our own walks over
// a document recurse once per level: a hundred thousand '[' would overflow the
// stack. Every document from a file, stdin or the network goes through
// parse_json (or check_json_text_depth first, for SAX parses); documents built
// in code by library users are checked with check_json_depth before a walk.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace qwen3vl {

// ordered_json keeps keys in the order written: chat templates print tools and
// arguments with tojson, and transformers keeps insertion order there.
using Json = nlohmann::ordered_json;

// Deepest nesting of arrays/objects accepted anywhere. Real documents stay
// below 10 (configs, messages, tokenizers); tool schemas in chat requests
// rarely pass 20. 128 leaves room for both and keeps every recursion shallow.
constexpr int kMaxJsonDepth = 128;

// Parses `text`; `what` names the source (usually a path) in errors.
Json parse_json(std::string_view text, const std::string& what, int max_depth = kMaxJsonDepth);

// Throws Error when arrays/objects in the JSON text `text` nest deeper than
// `max_depth` (the top-level container is depth 1). Reads the text once, with
// no allocation; strings are skipped, syntax is left to the parser.
void check_json_text_depth(std::string_view text, const std::string& what, int max_depth = kMaxJsonDepth);

// The same limit for a document already in memory (walks it without recursion).
void check_json_depth(const Json& value, const std::string& what, int max_depth = kMaxJsonDepth);

// Reads (see read_text_file: regular files only, size-capped) and parses a
// JSON file.
Json load_json_file(const std::string& path);

}  // namespace qwen3vl
