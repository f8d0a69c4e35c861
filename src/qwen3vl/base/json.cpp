#include "qwen3vl/base/json.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {

Json parse_json(const std::string& text, const std::string& what) {
  try {
    return Json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw Error("invalid JSON in " + what + ": " + e.what());
  }
}

Json load_json_file(const std::string& path) { return parse_json(read_text_file(path), path); }

}  // namespace qwen3vl
