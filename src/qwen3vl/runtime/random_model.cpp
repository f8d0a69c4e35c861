// The public API's random-weight checkpoints: the model layer writes the
// weights and config, the runtime adds the embedded model's tokenizer,
// template and other configs so the directory loads like a real checkpoint.
// Random model files go through the same writer as `qwen3vl quantize`, fed
// with generated tensors instead of a checkpoint's.
#include <algorithm>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/model/presets.h"
#include "qwen3vl/model/random_checkpoint.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/embedded_model.h"
#include "qwen3vl/runtime/model_file.h"

namespace qwen3vl {

Json published_model_config(const std::string& size) { return preset_config_json(size); }

namespace {

// The tensors write_random_checkpoint would write, generated one at a time
// into one reused buffer (the largest tensor's size).
class RandomTensors : public ModelFileTensors {
 public:
  RandomTensors(uint64_t seed, int threads) : seed_(seed), pool_(threads) {}

  TensorView describe(const TensorSpec& spec) const override {
    TensorView t;
    t.name = spec.name;
    t.dtype = DType::BF16;
    t.shape = spec.shape;
    t.nbytes = static_cast<size_t>(spec.numel()) * 2;
    t.file = "random weights";
    return t;
  }
  const TensorView& load(const TensorSpec& spec) override {
    current_ = describe(spec);
    values_.resize(static_cast<size_t>(spec.numel()));
    fill_random_bf16(spec, seed_, 0, values_.size(), values_.data(), pool_);
    current_.data = values_.data();
    return current_;
  }
  void release(const TensorView&) override {}  // the buffer is reused by the next tensor

 private:
  uint64_t seed_;
  ThreadPool pool_;
  std::vector<uint16_t> values_;
  TensorView current_;
};

// The files write_random_model puts beside the weights, as a model file
// embeds them: the embedded default model's, with `config` as config.json.
std::vector<std::pair<std::string, std::string>> random_model_files(const Json& config) {
  auto files = model_file_embedded_files(embedded_model_dir());
  for (auto& [name, bytes] : files)
    if (name == "config.json") bytes = random_checkpoint_config_text(config);
  return files;
}

}  // namespace

void write_random_model(const Json& config, const std::string& dir, const RandomModelOptions& options) {
  RandomCheckpointOptions weights;
  weights.seed = options.seed;
  weights.threads = options.threads;
  weights.progress = options.progress;
  write_random_checkpoint(config, dir, weights);
  for (const EmbeddedFile& f : embedded_model_files()) {
    if (f.name == "config.json" || f.name == "model.safetensors") continue;
    write_file_atomically(dir + "/" + f.name, f.data);
  }
}

void write_random_model_file(const Json& config, const std::string& path, const std::string& quant,
                             const RandomModelOptions& options) {
  const ModelConfig parsed = parse_model_config(config, "config");
  RandomTensors tensors(options.seed, std::min(options.threads, ThreadPool::hardware_threads()));
  QuantizeOptions q;
  q.quant = quant;
  q.threads = options.threads;
  q.progress = options.progress;
  write_model_file(parsed, random_model_files(config), tensors, path, q);
}

}  // namespace qwen3vl
