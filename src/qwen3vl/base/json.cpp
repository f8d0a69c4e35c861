#include "qwen3vl/base/json.h"

#include <utility>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/regular_file.h"

namespace qwen3vl {

namespace {

[[noreturn]] void too_deep(const std::string& what, int max_depth) {
  throw Error(what + ": JSON nested deeper than " + std::to_string(max_depth) + " levels");
}

}  // namespace

void check_json_text_depth(std::string_view text, const std::string& what, int max_depth) {
  int depth = 0;
  bool in_string = false;
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\') ++i;  // the escaped character cannot end the string
      else if (c == '"') in_string = false;
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) too_deep(what, max_depth);
        break;
      case ']':
      case '}': --depth; break;  // unbalanced text is the parser's to report
      default: break;
    }
  }
}

void check_json_depth(const Json& value, const std::string& what, int max_depth) {
  std::vector<std::pair<const Json*, int>> pending{{&value, 1}};
  while (!pending.empty()) {
    const auto [node, depth] = pending.back();
    pending.pop_back();
    if (!node->is_structured()) continue;
    if (depth > max_depth) too_deep(what, max_depth);
    for (const Json& child : *node)
      if (child.is_structured()) pending.emplace_back(&child, depth + 1);
  }
}

Json parse_json(std::string_view text, const std::string& what, int max_depth) {
  check_json_text_depth(text, what, max_depth);
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid JSON in " + what + ": " + e.what());
  }
}

Json load_json_file(const std::string& path) { return parse_json(read_text_file(path), path); }

}  // namespace qwen3vl
