// The parts of generation_config.json the runtime uses: sampling defaults and
// the end-of-sequence ids.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

struct GenerationConfig {
  std::vector<int> eos_token_ids;
  int bos_token_id = -1;
  int pad_token_id = -1;
  bool do_sample = false;
  float temperature = 1.0f;
  int top_k = 0;      // 0: off
  float top_p = 1.0f;  // 1: off
  float min_p = 0.0f;
  float repetition_penalty = 1.0f;
  float presence_penalty = 0.0f;
};

GenerationConfig parse_generation_config(const Json& j, const std::string& source);
// Missing file -> defaults (EOS from the model config's text eos id when given).
GenerationConfig load_generation_config(const std::string& path);

}  // namespace qwen3vl
