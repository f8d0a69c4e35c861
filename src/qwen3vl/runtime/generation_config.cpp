#include "qwen3vl/runtime/generation_config.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json_fields.h"
#include "qwen3vl/base/mapped_file.h"

namespace qwen3vl {

GenerationConfig parse_generation_config(const Json& j, const std::string& source) {
  GenerationConfig g;
  if (!j.is_object()) throw Error(source + ": not a JSON object");
  if (j.contains("eos_token_id")) {
    if (j["eos_token_id"].is_array()) g.eos_token_ids = j["eos_token_id"].get<std::vector<int>>();
    else if (j["eos_token_id"].is_number_integer()) g.eos_token_ids = {j["eos_token_id"].get<int>()};
  }
  g.bos_token_id = json_optional<int>(j, "bos_token_id", -1, source);
  g.pad_token_id = json_optional<int>(j, "pad_token_id", -1, source);
  g.do_sample = json_optional<bool>(j, "do_sample", false, source);
  g.temperature = json_optional<float>(j, "temperature", 1.0f, source);
  g.top_k = json_optional<int>(j, "top_k", 0, source);
  g.top_p = json_optional<float>(j, "top_p", 1.0f, source);
  g.min_p = json_optional<float>(j, "min_p", 0.0f, source);
  g.repetition_penalty = json_optional<float>(j, "repetition_penalty", 1.0f, source);
  g.presence_penalty = json_optional<float>(j, "presence_penalty", 0.0f, source);
  return g;
}

GenerationConfig load_generation_config(const std::string& path) {
  if (!file_exists(path)) {
    GenerationConfig g;
    g.eos_token_ids = {151645, 151643};
    return g;
  }
  return parse_generation_config(load_json_file(path), path);
}

}  // namespace qwen3vl
