#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <tuple>

#include "qwen3vl/base/cache_dir.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/embedded_model.h"
#include "qwen3vl/runtime/model_file.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/runtime/kv_cache_choice.h"
#include "qwen3vl/weights/weight_formats.h"

namespace qwen3vl {

Model::Model() : impl_(std::make_unique<Impl>()) {}
Model::~Model() = default;

const Qwen3VLModel& loaded_network(const Model& model) {
  const Model::Impl& m = ModelAccess::of(model);
  if (!m.network) throw Error("the model was loaded without weights (LoadOptions::load_weights)");
  return *m.network;
}

namespace {

std::atomic<uint64_t> g_next_model_id{1};

using Progress = std::function<void(const std::string&, double)>;

// What the configs must agree on with each other and with the options,
// checked before the tokenizer and weights load.
void check_configs(const Model::Impl& m, const LoadOptions& options, const std::string& source) {
  check_context_length(m.config, options.context_length, source);
  // The vision encoder reads patches of its own size: a processor cutting
  // other ones would hand it a buffer of the wrong length.
  const VisionConfig& v = m.config.vision;
  const PreprocessorConfig& p = m.preprocessor;
  for (auto [mine, theirs, key] : {std::tuple{p.patch_size, v.patch_size, "patch_size"},
                                   {p.temporal_patch_size, v.temporal_patch_size, "temporal_patch_size"},
                                   {p.merge_size, v.spatial_merge_size, "merge_size"}})
    if (mine != theirs)
      throw Error(source + " vs preprocessor_config.json: \"" + key + "\" " + std::to_string(mine) +
                  " differs from the vision config's " + std::to_string(theirs));
}

// A Hugging Face checkpoint directory: configs, tokenizer and template from
// their files; weights viewed in place, or converted at load when --quant asks.
void load_checkpoint_dir(Model::Impl& m, const std::string& path, const LoadOptions& options,
                         const Progress& progress) {
  if (!file_exists(path + "/config.json"))
    throw Error("no config.json in " + path +
                " (expected a Hugging Face Qwen3-VL checkpoint directory or a qwen3vl model file)");
  m.config = load_model_config(path + "/config.json");
  m.generation = load_generation_config(path + "/generation_config.json");
  m.preprocessor = load_preprocessor_config(path + "/preprocessor_config.json");
  m.video_processor = load_video_processor_config(path);
  check_configs(m, options, path + "/config.json");
  progress("tokenizer", 0.0);
  if (!file_exists(path + "/tokenizer.json")) throw Error("no tokenizer.json in " + path);
  m.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load(path + "/tokenizer.json"));
  m.chat_template = std::make_unique<ChatTemplate>(ChatTemplate::load_from_dir(path));
  if (!options.load_weights) return;
  progress("weights", 0.05);
  m.checkpoint = std::make_unique<Checkpoint>(path);
  WeightSource source(*m.checkpoint);
  const WeightOptions weights = weight_options_from_name(options.weights, *m.pool);
  if (options.weights != "auto" && !options.weights.empty()) {
    // Convert every weight matrix up front, each one's rows in parallel,
    // releasing the source pages as it goes; the model code then finds them
    // ready (WeightSource::prepared).
    const ModelTensorSpecs specs = qwen3vl_tensor_specs(m.config);
    prepare_converted_weights(source, options.load_vision ? specs.all() : specs.text.all(), weights,
                              [&](double f) { progress("weights", 0.05 + 0.9 * f); });
  }
  m.network.emplace(m.config, source, ModelWeightsOptions{weights, options.load_vision});
}

// A qwen3vl model file: everything from the one mapping, weights as stored.
void load_model_file(Model::Impl& m, const std::string& path, const LoadOptions& options, const Progress& progress) {
  ModelFile file = open_model_file(path);
  if (!options.weights.empty() && options.weights != "auto" && options.weights != file.quant)
    throw Error(path + " holds " + file.quant + " weights, but --quant " + options.weights +
                " was asked for: omit --quant, or run `qwen3vl quantize --quant " + options.weights +
                "` on the original checkpoint");
  // From here on the model behaves as `--quant <file's quant>` would (e.g.
  // the KV cache type "auto" resolves against it).
  m.options.weights = file.quant;
  const std::string origin = path + ":";
  m.config = parse_model_config(parse_json(std::string(file.config_json), origin + "config.json"),
                                origin + "config.json");
  if (!file.generation_config_json.empty())
    m.generation = parse_generation_config(
        parse_json(std::string(file.generation_config_json), origin + "generation_config.json"),
        origin + "generation_config.json");
  if (!file.preprocessor_config_json.empty())
    m.preprocessor = parse_preprocessor_config(
        parse_json(std::string(file.preprocessor_config_json), origin + "preprocessor_config.json"),
        origin + "preprocessor_config.json");
  // Without its own file the video processor reads the image processor's, as transformers does.
  const bool own_video = !file.video_preprocessor_config_json.empty();
  const std::string_view video_json = own_video ? file.video_preprocessor_config_json : file.preprocessor_config_json;
  const std::string video_name = origin + (own_video ? "video_preprocessor_config.json" : "preprocessor_config.json");
  if (!video_json.empty())
    m.video_processor = parse_video_processor_config(parse_json(std::string(video_json), video_name), video_name);
  check_configs(m, options, origin + "config.json");
  progress("tokenizer", 0.0);
  m.tokenizer = std::make_unique<Tokenizer>(Tokenizer::load_from_json(file.tokenizer_json, origin + "tokenizer.json"));
  m.chat_template = std::make_unique<ChatTemplate>(
      ChatTemplate::from_parts(std::string(file.chat_template), origin + "chat_template.jinja",
                               file.tokenizer_config_json, origin + "tokenizer_config.json"));
  if (!options.load_weights) return;
  m.checkpoint = std::move(file.checkpoint);
  // Fault the mapping in now, with progress: the same work the first token
  // would otherwise do 4 KB at a time, and a cold file is read from disk here.
  size_t total = 0, done = 0;
  const std::vector<std::string> names = m.checkpoint->names();
  for (const auto& name : names) total += m.checkpoint->get(name).nbytes;
  for (const auto& name : names) {
    const TensorView& t = m.checkpoint->get(name);
    prefault_mapped_pages(t.data, t.nbytes);
    done += t.nbytes;
    progress("weights", 0.1 + 0.85 * double(done) / double(std::max<size_t>(total, 1)));
  }
  // The same options as `--quant <file's quant>`: every weight the file
  // stores quantized is already in its target format (a zero-copy view, no
  // conversion); a file written before the vision patch embedding was
  // quantized with the rest gets it converted here exactly as at load, and
  // the vision tower picks the same attention precision.
  const WeightSource source(*m.checkpoint, std::move(file.quantized));
  m.network.emplace(m.config, source,
                    ModelWeightsOptions{weight_options_from_name(file.quant, *m.pool), options.load_vision});
}

}  // namespace

std::shared_ptr<Model> Model::load(const std::string& path, const LoadOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (options.threads < 0) throw Error("LoadOptions::threads must be 0 (one per core) or positive");
  if (!file_exists(path)) throw Error("model path " + path + " does not exist");
  resolved_kv_cache_type(options);  // reject a bad name before the long load
  std::shared_ptr<Model> model(new Model());
  Impl& m = *model->impl_;
  m.path = path;
  m.options = options;
  m.instance_id = g_next_model_id++;
  // More threads than CPUs only makes the spinning workers wait for each other.
  m.pool = std::make_unique<ThreadPool>(std::min(options.threads, ThreadPool::hardware_threads()));
  auto progress = [&](const std::string& stage, double f) {
    if (options.progress) options.progress(stage, f);
  };
  if (is_model_file_path(path)) load_model_file(m, path, options, progress);
  else load_checkpoint_dir(m, path, options, progress);
  if (m.generation.eos_token_ids.empty()) m.generation.eos_token_ids = {151645, 151643};
  if (options.load_weights && options.load_vision) {
    // The vision tower's attention kernel depends on the CPU's measured speeds.
    m.kernel_tuning = tune_kernels(*m.pool, qwen3vl_cache_dir());
    set_kernel_choices(m.kernel_tuning.choices);
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
size_t Model::decoder_weight_bytes() const { return impl_->network ? impl_->network->decoder().weight_bytes() : 0; }
int Model::threads() const { return impl_->pool->size(); }
std::string Model::kernel_choices() const {
  return impl_->kernel_tuning.origin.empty() ? std::string() : impl_->kernel_tuning.summary();
}

}  // namespace qwen3vl
