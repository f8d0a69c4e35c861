// The public API's random-weight checkpoints: the model layer writes the
// weights and config, the runtime adds the embedded model's tokenizer,
// template and other configs so the directory loads like a real checkpoint.
#include <fstream>

#include "qwen3vl/base/error.h"
#include "qwen3vl/model/presets.h"
#include "qwen3vl/model/random_checkpoint.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/embedded_model.h"

namespace qwen3vl {

Json published_model_config(const std::string& size) { return preset_config_json(size); }

void write_random_model(const Json& config, const std::string& dir, const RandomModelOptions& options) {
  RandomCheckpointOptions weights;
  weights.seed = options.seed;
  weights.progress = options.progress;
  write_random_checkpoint(config, dir, weights);
  for (const EmbeddedFile& f : embedded_model_files()) {
    if (f.name == "config.json" || f.name == "model.safetensors") continue;
    std::ofstream out(dir + "/" + f.name, std::ios::binary | std::ios::trunc);
    out.write(f.data.data(), static_cast<std::streamsize>(f.data.size()));
    if (!out) throw Error("cannot write " + dir + "/" + f.name);
  }
}

}  // namespace qwen3vl
