#include "qwen3vl/runtime/model_file.h"

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/io/safetensors_stream_writer.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/weights/weight_formats.h"
#include "qwen3vl/weights/weight_loading.h"
#include "qwen3vl/tokenizer/chat_template.h"

namespace qwen3vl {

namespace {

// __metadata__ keys (all values are strings, as safetensors requires).
constexpr const char* kKeyFormat = "format";
constexpr const char* kKeyVersion = "version";
constexpr const char* kKeyQuant = "quant";
constexpr const char* kKeyQuantized = "quantized_weights";
constexpr const char* kKeyLayout = "quant_layout";

}  // namespace

// A fingerprint of the kernels' Q8/Q4 block layout: FNV-1a of a fixed 20x40
// matrix quantized both ways (two tiles, two groups, padding included). A
// build whose kernels lay blocks out differently gets another value and
// refuses the file instead of computing garbage.
std::string quant_layout_fingerprint() {
  std::vector<float> values(20 * 40);
  for (size_t i = 0; i < values.size(); ++i) values[i] = float(int(i * 7919 % 255) - 127) / 16.0f;
  const WeightMatrix src = make_f32_weight(20, 40, values);
  uint64_t h = 1469598103934665603ull;
  for (WeightFormat f : {WeightFormat::Q8, WeightFormat::Q4}) {
    const WeightMatrix q = quantize_weight(src, f);
    const auto* b = static_cast<const uint8_t*>(q.data);
    for (size_t i = 0; i < q.bytes(); ++i) h = (h ^ b[i]) * 1099511628211ull;
  }
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

std::string model_file_compatibility_key() {
  return "v" + std::to_string(kModelFileMajorVersion) + "." + std::to_string(kModelFileMinorVersion) + "-" +
         quant_layout_fingerprint();
}

namespace {

// The embedded files, in the order they are written. Optional ones are left
// out when the checkpoint has none (their defaults then apply, as for a
// directory without them).
struct BlobSpec {
  const char* name;
  bool required;
};
constexpr BlobSpec kBlobs[] = {
    {"config.json", true},           {"generation_config.json", false}, {"preprocessor_config.json", false},
    {"tokenizer.json", true},        {"tokenizer_config.json", false},  {"chat_template.jinja", true},
    {"video_preprocessor_config.json", false},
};

std::string blob_tensor_name(const std::string& file) { return std::string(kModelFileBlobPrefix) + file; }

// --quant meanings a model file can store (f32 would only make files bigger
// than the checkpoint; auto means "as stored", i.e. no file needed).
WeightOptions file_weight_options(const std::string& quant, ThreadPool& pool) {
  if (quant != "q4" && quant != "q8" && quant != "bf16")
    throw Error("quantize: --quant must be q4, q8 or bf16, got '" + quant + "'");
  return weight_options_from_name(quant, pool);
}

std::optional<WeightFormat> quantized_format_from_name(const std::string& name) {
  if (name == "q8") return WeightFormat::Q8;
  if (name == "q4") return WeightFormat::Q4;
  return std::nullopt;
}

}  // namespace

bool is_model_file_path(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

namespace {

// A Hugging Face checkpoint's tensors, views into its mapping.
class CheckpointTensors : public ModelFileTensors {
 public:
  explicit CheckpointTensors(const std::string& dir) : ckpt_(dir) {}
  TensorView describe(const TensorSpec& spec) const override { return ckpt_.get(spec.name, spec.shape); }
  const TensorView& load(const TensorSpec& spec) override { return ckpt_.get(spec.name); }
  void release(const TensorView& t) override { release_mapped_pages(t.data, t.nbytes); }

 private:
  Checkpoint ckpt_;
};

}  // namespace

std::vector<std::pair<std::string, std::string>> model_file_embedded_files(const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const BlobSpec& b : kBlobs) {
    const std::string name = b.name;
    if (name == "chat_template.jinja") {
      files.emplace_back(name, ChatTemplate::load_from_dir(dir).source());
    } else if (file_exists(dir + "/" + name)) {
      files.emplace_back(name, read_text_file(dir + "/" + name));
    } else if (b.required) {
      throw Error("no " + name + " in " + dir);
    }
  }
  return files;
}

void write_model_file(const std::string& hf_dir, const std::string& out_path, const QuantizeOptions& options) {
  if (is_model_file_path(hf_dir))
    throw Error(hf_dir + " is a file; quantize reads a Hugging Face checkpoint directory");
  if (!file_exists(hf_dir + "/config.json"))
    throw Error("no config.json in " + hf_dir + " (expected a Hugging Face Qwen3-VL checkpoint directory)");
  const ModelConfig config = load_model_config(hf_dir + "/config.json");
  const auto files = model_file_embedded_files(hf_dir);
  CheckpointTensors tensors(hf_dir);
  write_model_file(config, files, tensors, out_path, options);
}

void write_model_file(const ModelConfig& config, const std::vector<std::pair<std::string, std::string>>& files,
                      ModelFileTensors& tensors, const std::string& out_path, const QuantizeOptions& options) {
  ThreadPool pool(std::min(options.threads, ThreadPool::hardware_threads()));  // more would only wait
  const WeightOptions wopts = file_weight_options(options.quant, pool);

  // What each tensor becomes: its target format (nullopt = as stored).
  struct Item {
    TensorSpec spec;
    std::optional<WeightFormat> target;
  };
  std::vector<Item> items;
  std::vector<SafetensorsStreamWriter::Entry> entries;
  for (const auto& [name, text] : files)
    entries.push_back({blob_tensor_name(name), DType::U8, {static_cast<int64_t>(text.size())}, text.size()});
  Json quantized = Json::object();
  uint64_t total_source = 0;
  for (const TensorSpec& spec : qwen3vl_tensor_specs(config).all()) {
    const TensorView t = tensors.describe(spec);
    total_source += t.nbytes;
    Item item{spec, std::nullopt};
    const bool experts = spec.kind == TensorKind::Experts;
    if (const std::optional<WeightFormat> target = wopts.format_for(spec)) {
      if (*target != stored_format(t)) item.target = target;
    }
    if (item.target == WeightFormat::Q8 || item.target == WeightFormat::Q4) {
      // A fused expert tensor: its experts' matrices back to back.
      const size_t n = static_cast<size_t>(std::max<int64_t>(1, spec.experts())) *
                       quantized_weight_bytes(*item.target, spec.rows(), spec.cols());
      entries.push_back({spec.name, DType::U8, {static_cast<int64_t>(n)}, n});
      quantized[spec.name] = {{"format", weight_format_name(*item.target)},
                              {"rows", spec.rows()},
                              {"cols", spec.cols()}};
      if (experts) quantized[spec.name]["experts"] = spec.experts();
    } else if (item.target && experts) {
      throw Error("quantize: no file format for " + std::string(weight_format_name(*item.target)) +
                  " expert weights stored as " + dtype_name(t.dtype));
    } else if (item.target == WeightFormat::BF16) {
      entries.push_back({spec.name, DType::BF16, spec.shape, static_cast<size_t>(t.numel()) * 2});
    } else if (item.target) {
      throw Error("quantize: no file format for " + std::string(weight_format_name(*item.target)));
    } else {
      entries.push_back({spec.name, t.dtype, t.shape, t.nbytes});
    }
    items.push_back(std::move(item));
  }

  const std::map<std::string, std::string> metadata = {
      {kKeyFormat, kModelFileFormat},
      {kKeyVersion, std::to_string(kModelFileMajorVersion) + "." + std::to_string(kModelFileMinorVersion)},
      {kKeyQuant, options.quant},
      {kKeyQuantized, quantized.dump()},
      {kKeyLayout, quant_layout_fingerprint()},
  };
  SafetensorsStreamWriter out(out_path, std::move(entries), metadata);
  for (const auto& [name, text] : files) out.write_next(blob_tensor_name(name), text.data(), text.size());
  uint64_t done = 0;
  for (const Item& item : items) {
    const TensorView& t = tensors.load(item.spec);
    if (item.target && item.spec.kind == TensorKind::Experts) {
      std::vector<uint8_t> bytes;
      for (int64_t e = 0; e < item.spec.experts(); ++e) {
        const WeightMatrix converted = convert_weight_format(transposed_expert(t, e), *item.target,
                                                             expert_weight_name(item.spec.name, e), pool);
        const auto* b = static_cast<const uint8_t*>(converted.data);
        bytes.insert(bytes.end(), b, b + converted.bytes());
      }
      out.write_next(item.spec.name, bytes.data(), bytes.size());
    } else if (item.target) {
      const WeightMatrix converted =
          convert_weight_format(stored_matrix_view(t, item.spec), *item.target, item.spec.name, pool);
      out.write_next(item.spec.name, converted.data, converted.bytes());
    } else {
      out.write_next(item.spec.name, t.data, t.nbytes);
    }
    done += t.nbytes;
    // Written: the source need not stay in memory.
    tensors.release(t);
    if (options.progress) options.progress(done, total_source);
  }
  out.commit();
}

ModelFile open_model_file(const std::string& path) {
  ModelFile mf;
  try {
    mf.checkpoint = std::make_unique<Checkpoint>(path);
  } catch (const Error& e) {
    // A regular file given as a model: say what was expected, then why it
    // is not that (the inner message names the file and the fault).
    throw Error("cannot read " + path + " as a qwen3vl model file (or give a checkpoint directory): " + e.what());
  }
  const auto& md = mf.checkpoint->file_metadata();
  auto meta = [&](const char* key) -> std::optional<std::string> {
    auto it = md.find(key);
    if (it == md.end()) return std::nullopt;
    return it->second;
  };
  if (meta(kKeyFormat) != std::string(kModelFileFormat))
    throw Error(path + ": not a qwen3vl model file (a safetensors file without __metadata__ \"format\": \"" +
                kModelFileFormat + "\"); give -m a Hugging Face checkpoint directory or a file written by "
                "`qwen3vl quantize`");
  const auto version = meta(kKeyVersion);
  if (!version) throw Error(path + ": qwen3vl model file without a \"version\" in its metadata");
  int major = -1;
  try {
    size_t used = 0;
    major = std::stoi(*version, &used);
    if (used < version->size() && (*version)[used] != '.') major = -1;
  } catch (const std::exception&) {
    major = -1;
  }
  if (major < 1) throw Error(path + ": unrecognised qwen3vl model file version \"" + *version + "\"");
  if (major > kModelFileMajorVersion)
    throw Error(path + ": qwen3vl model file version " + *version + " is newer than this build reads (" +
                std::to_string(kModelFileMajorVersion) + ".x); upgrade qwen3vl, or quantize the checkpoint again "
                "with this build");
  mf.version = *version;
  const auto quant = meta(kKeyQuant);
  if (!quant) throw Error(path + ": qwen3vl model file without a \"quant\" in its metadata");
  mf.quant = *quant;

  Checkpoint& ckpt = *mf.checkpoint;
  auto blob = [&](const char* file, bool required) -> std::string_view {
    const std::string name = blob_tensor_name(file);
    if (!ckpt.has(name)) {
      if (required) throw Error(path + ": the embedded file " + file + " (tensor '" + name + "') is missing");
      return {};
    }
    const TensorView& t = ckpt.get(name);
    if (t.dtype != DType::U8 || t.shape.size() != 1)
      throw Error(path + ": the embedded file " + file + " must be a 1-D U8 tensor");
    return {static_cast<const char*>(t.data), t.nbytes};
  };
  mf.config_json = blob("config.json", true);
  mf.generation_config_json = blob("generation_config.json", false);
  mf.preprocessor_config_json = blob("preprocessor_config.json", false);
  mf.video_preprocessor_config_json = blob("video_preprocessor_config.json", false);
  mf.tokenizer_json = blob("tokenizer.json", true);
  mf.tokenizer_config_json = blob("tokenizer_config.json", false);
  mf.chat_template = blob("chat_template.jinja", true);

  Json quantized = Json::object();
  if (const auto layout = meta(kKeyLayout); layout && *layout != quant_layout_fingerprint())
    throw Error(path + ": its Q8/Q4 weights use a block layout this build's kernels do not (\"" + kKeyLayout +
                "\" " + *layout + " != " + quant_layout_fingerprint() +
                "); quantize the checkpoint again with this build");
  if (const auto text = meta(kKeyQuantized)) {
    quantized = parse_json(*text, path + ": metadata \"" + kKeyQuantized + "\"");
    if (!quantized.is_object()) throw Error(path + ": metadata \"" + kKeyQuantized + "\" is not a JSON object");
  }
  for (auto it = quantized.begin(); it != quantized.end(); ++it) {
    const std::string& name = it.key();
    const std::string where = path + ": quantized tensor '" + name + "'";
    const Json& q = *it;
    if (!q.is_object() || !q.contains("format") || !q["format"].is_string() || !q.contains("rows") ||
        !q["rows"].is_number_integer() || !q.contains("cols") || !q["cols"].is_number_integer())
      throw Error(where + " has an incomplete entry in \"" + kKeyQuantized + "\" (needs format, rows, cols)");
    const auto fmt = quantized_format_from_name(q["format"].get<std::string>());
    if (!fmt) throw Error(where + " has unknown format \"" + q["format"].get<std::string>() + "\"");
    const int64_t rows = q["rows"].get<int64_t>(), cols = q["cols"].get<int64_t>();
    if (rows <= 0 || cols <= 0 || rows > (int64_t(1) << 32) || cols > (int64_t(1) << 32))
      throw Error(where + " has an invalid shape " + std::to_string(rows) + "x" + std::to_string(cols));
    // A fused MoE expert tensor holds `experts` such matrices back to back.
    int64_t experts = 0;
    if (q.contains("experts")) {
      if (!q["experts"].is_number_integer() || q["experts"].get<int64_t>() <= 0 ||
          q["experts"].get<int64_t>() > (int64_t(1) << 20))
        throw Error(where + " has an invalid \"experts\" count " + q["experts"].dump());
      experts = q["experts"].get<int64_t>();
    }
    if (!ckpt.has(name)) throw Error(where + " is listed in the metadata but has no data");
    const TensorView& t = ckpt.get(name);
    const size_t one = quantized_weight_bytes(*fmt, rows, cols);
    const size_t expect = one * static_cast<size_t>(std::max<int64_t>(1, experts));
    if (t.dtype != DType::U8 || t.shape.size() != 1 || t.nbytes != expect)
      throw Error(where + " should be " + std::to_string(expect) + " bytes of U8 (" +
                  (experts > 0 ? std::to_string(experts) + " x " : std::string()) + weight_format_name(*fmt) + " " +
                  std::to_string(rows) + "x" + std::to_string(cols) + "), the file has " + std::to_string(t.nbytes) +
                  " bytes of " + dtype_name(t.dtype));
    WeightMatrix w;
    w.format = *fmt;
    w.rows = rows;
    w.cols = cols;
    w.group_size = kQuantGroup;
    w.data = t.data;  // zero-copy: the Checkpoint keeps the mapping alive
    if (experts == 0) {
      mf.quantized[name] = w;
      continue;
    }
    for (int64_t e = 0; e < experts; ++e) {
      w.data = static_cast<const uint8_t*>(t.data) + static_cast<size_t>(e) * one;
      mf.quantized[expert_weight_name(name, e)] = w;
    }
  }
  return mf;
}

}  // namespace qwen3vl
