// The published Qwen3-VL model shapes, for make-random-model and tests.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"

namespace qwen3vl {

// "2b", "4b", "8b", "30b-a3b" -> a config.json as the published checkpoints
// have it; "tiny-moe": a small Mixture-of-Experts shape for tests.
// Throws Error for an unknown preset.
Json preset_config_json(const std::string& preset);
std::vector<std::string> preset_names();

}  // namespace qwen3vl
