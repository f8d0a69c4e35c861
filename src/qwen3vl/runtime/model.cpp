#include <chrono>

#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/embedded_model.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/weight_formats.h"

namespace qwen3vl {

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;

std::shared_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.threads > 0) ThreadPool::set_default_threads(options.threads);
  if (!file_exists(path)) throw Error("model path " + path + " does not exist");
  resolved_kv_cache_type(options);  // reject a bad name before the long load
  if (!file_exists(path + "/config.json"))
    throw Error("no config.json in " + path + " (expected a Hugging Face Qwen3-VL checkpoint directory)");
  std::shared_ptr<Model> model(new Model());
  Impl& m = *model->impl_;
  m.path = path;
  m.options = options;
  auto progress = [&](const std::string& stage, double f) {
    if (options.progress) options.progress(stage, f);
  };
  m.config = load_model_config(path + "/config.json");
  m.generation = load_generation_config(path + "/generation_config.json");
  if (m.generation.eos_token_ids.empty()) m.generation.eos_token_ids = {151645, 151643};
  m.preprocessor = load_preprocessor_config(path + "/preprocessor_config.json");
  progress("tokenizer", 0.0);
  if (!file_exists(path + "/tokenizer.json")) throw Error("no tokenizer.json in " + path);
  m.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(path + "/tokenizer.json"));
  m.chat_template = std::make_unique<ChatTemplate>(ChatTemplate::load_from_dir(path));
  if (!options.load_weights) return model;
  progress("weights", 0.1);
  m.checkpoint = std::make_unique<Checkpoint>(path);
  DecoderOptions dopts;
  dopts.weights = weight_options_from_name(options.weights);
  m.decoder.emplace(m.config, *m.checkpoint, dopts);
  progress("weights", 0.8);
  if (options.load_vision) {
    VisionEncoderOptions vopts;
    vopts.weights = dopts.weights;
    m.vision = std::make_unique<VisionEncoder>(m.config, *m.checkpoint, vopts);
  }
  progress("weights", 1.0);
  m.load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return model;
}

std::shared_ptr<Model> Model::load_default(const LoadOptions& options) {
  auto model = load(embedded_model_dir(), options);
  model->impl_->is_default = true;
  return model;
}

const ModelConfig& Model::config() const { return impl_->config; }
const GenerationConfig& Model::generation_config() const { return impl_->generation; }
const PreprocessorConfig& Model::preprocessor_config() const { return impl_->preprocessor; }
const Tokenizer& Model::tokenizer() const { return *impl_->tokenizer; }
const ChatTemplate& Model::chat_template() const { return *impl_->chat_template; }
const std::string& Model::path() const { return impl_->path; }
bool Model::is_default_model() const { return impl_->is_default; }
const LoadOptions& Model::load_options() const { return impl_->options; }
double Model::load_ms() const { return impl_->load_ms; }
size_t Model::decoder_weight_bytes() const { return impl_->decoder ? impl_->decoder->weight_bytes() : 0; }

}  // namespace qwen3vl
