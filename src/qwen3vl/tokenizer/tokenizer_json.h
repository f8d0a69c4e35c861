// Reads Hugging Face tokenizer.json. The file is ~5 MB, almost all of it the
// BPE vocab (150k entries) and merges (150k pairs); building a JSON DOM for
// those costs ~0.25 s, so a streaming (SAX) reader lifts them straight into
// flat vectors and only the small remainder becomes a Json tree.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

struct TokenizerJson {
  Json config;  // the whole file except model.vocab and model.merges
  std::vector<std::pair<std::string, int32_t>> vocab;            // as written (byte-level alphabet)
  std::vector<std::pair<std::string, std::string>> merges;       // in rank order, as written
};

// Throws Error naming `path` if it cannot be read or is not valid JSON of the expected shape.
TokenizerJson read_tokenizer_json(const std::string& path);
// The same for tokenizer.json text already in memory (e.g. a blob of a
// qwen3vl model file); `origin` names it in errors.
TokenizerJson parse_tokenizer_json(std::string_view text, const std::string& origin);

}  // namespace qwen3vl
