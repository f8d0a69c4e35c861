// export_onnx(): which graphs and files each layout gets, assembled in a
// fresh temporary directory beside the target and renamed into place
// (base/atomic_file.h AtomicDirectory).

#include <filesystem>
#include <map>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/export/onnx/decoder_graph.h"
#include "qwen3vl/export/onnx/embedding_graph.h"
#include "qwen3vl/export/onnx/export_weights.h"
#include "qwen3vl/export/onnx/layout_configs.h"
#include "qwen3vl/export/onnx/onnx_file.h"
#include "qwen3vl/export/onnx/vision_graph.h"
#include "qwen3vl/export_onnx.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"

namespace qwen3vl {

namespace fs = std::filesystem;
using namespace onnx_export;

namespace {

// Files a runtime needs beside the graphs, copied as they are when present.
const char* kSideFiles[] = {"tokenizer.json",       "tokenizer_config.json", "chat_template.json",
                            "chat_template.jinja",  "generation_config.json", "preprocessor_config.json",
                            "special_tokens_map.json", "vocab.json",          "merges.txt"};

void write_json(const fs::path& path, const Json& j) { write_file_atomically(path.string(), j.dump(2) + "\n"); }

// An existing output directory is replaced only when it holds an earlier
// export (or nothing): `-o ~` by mistake must not delete a home directory.
void check_replaceable(const fs::path& target) {
  const fs::file_status st = fs::symlink_status(target);
  if (!fs::exists(st) || fs::is_symlink(st)) return;  // a link is replaced, never followed
  check(fs::is_directory(st), "cannot export to " + target.string() + ": it exists and is not a directory");
  if (fs::is_empty(target)) return;
  const bool earlier_export =
      fs::exists(target / "config.json") && (fs::exists(target / "genai_config.json") || fs::is_directory(target / "onnx"));
  check(earlier_export, "cannot export to " + target.string() +
                            ": the directory holds files that are not an ONNX export (an export has config.json "
                            "and genai_config.json or onnx/); remove it or choose another output directory");
}

uint64_t estimated_weight_bytes(const ModelConfig& c, Precision p, bool text_only) {
  uint64_t elems = 0;
  const ModelTensorSpecs specs = qwen3vl_tensor_specs(c);
  for (const TensorSpec& s : specs.text.all()) elems += static_cast<uint64_t>(s.numel());
  if (!text_only)
    for (const TensorSpec& s : specs.vision.all()) elems += static_cast<uint64_t>(s.numel());
  const uint64_t head = c.tie_word_embeddings ? uint64_t(c.text.vocab_size) * c.text.hidden_size : 0;
  elems += head;  // the tied table is written twice (embedding and head)
  switch (p) {
    case Precision::F32: return elems * 4;
    case Precision::F16: return elems * 2;
    case Precision::Int4: return elems * 2 / 3;  // a rough mix of int4 and f16
  }
  return elems;
}

struct GraphWriter {
  fs::path dir;
  std::string data_suffix;  // ".data" (genai) or "_data" (transformers.js)
  const OnnxExportOptions& options;
  uint64_t total_estimate;
  uint64_t done = 0;
  std::map<std::string, bool> external;  // file (relative) -> uses external data
  std::vector<std::string> files;

  template <typename Build>
  void write(const std::string& rel, bool microsoft_ops, Build build) {
    const fs::path path = dir / rel;
    fs::create_directories(path.parent_path());
    const uint64_t before = done;
    ExternalDataStore store(path.string(), data_suffix, [&](uint64_t bytes) {
      done = before + bytes;
      if (options.progress) options.progress(rel, done, total_estimate);
    });
    GraphBuilder g(fs::path(rel).stem().string(), store);
    build(g);
    onnx::ModelProto model = make_model(std::move(g.graph()), microsoft_ops);
    write_model(model, path.string(), store, options.external_data);
    const bool ext = fs::exists(store.data_path());
    external[fs::path(rel).filename().string()] = ext;
    files.push_back(rel);
    if (ext) files.push_back(rel + data_suffix);
  }
};

}  // namespace

OnnxExportResult export_onnx(const std::string& model_dir, const std::string& out_dir,
                             const OnnxExportOptions& options) {
  check(options.layout == "genai" || options.layout == "transformers.js",
        "unknown ONNX layout '" + options.layout + "' (expected genai or transformers.js)");
  const Precision precision = parse_precision(options.precision);
  check(fs::is_directory(model_dir), "export-onnx reads a Hugging Face checkpoint directory; " + model_dir +
                                         " is not one (a qwen3vl model file holds quantized weights: export "
                                         "from the original checkpoint)");
  fs::path target = fs::absolute(fs::path(out_dir)).lexically_normal();
  if (target.filename().empty()) target = target.parent_path();  // "out/" names "out"
  check(!target.filename().empty() && target.filename() != "..", "export-onnx: invalid output directory " + out_dir);
  check_replaceable(target);
  const Json hf = load_json_file(model_dir + "/config.json");
  const std::string type = hf.value("model_type", std::string());
  check(type == "qwen3_vl", "cannot export model type '" + type +
                                "' to ONNX: only dense Qwen3-VL (qwen3_vl) checkpoints are supported");
  LayoutInfo info;
  info.model = parse_model_config(hf, model_dir + "/config.json");
  info.generation = load_generation_config(model_dir + "/generation_config.json");
  info.preprocessor = load_preprocessor_config(model_dir + "/preprocessor_config.json");
  info.hf_config = hf;
  info.text_only = options.text_only;
  const Checkpoint checkpoint(model_dir);
  ExportWeights weights(info.model, checkpoint, precision, options.block_size);

  fs::create_directories(target.parent_path());
  AtomicDirectory output(target.string());
  const fs::path tmp = output.temporary_path();

  const bool tjs = options.layout == "transformers.js";
  GraphWriter w{tmp, tjs ? "_data" : ".data", options, estimated_weight_bytes(info.model, precision, options.text_only), 0, {}, {}};
  const bool int4 = precision == Precision::Int4;
  try {
    const std::string suffix = !tjs ? "" : precision == Precision::F16 ? "_fp16" : int4 ? "_q4" : "";
    if (options.text_only) {
      w.write(tjs ? "onnx/model" + suffix + ".onnx" : "model.onnx", int4,
              [&](GraphBuilder& g) { build_decoder_graph(g, weights, DecoderForm::TextOnly); });
      weights.require_used(weights.specs().text.all());
    } else if (tjs) {
      w.write("onnx/vision_encoder" + suffix + ".onnx", int4, [&](GraphBuilder& g) {
        VisionGraphNames names;
        names.deepstack_as_columns = true;
        build_vision_graph(g, weights, names);
      });
      w.write("onnx/embed_tokens" + suffix + ".onnx", false,
              [&](GraphBuilder& g) { build_wide_embedding_graph(g, weights); });
      w.write("onnx/decoder_model_merged" + suffix + ".onnx", int4,
              [&](GraphBuilder& g) { build_decoder_graph(g, weights, DecoderForm::WideEmbeds); });
      weights.require_used(weights.specs().text.all());
    } else {
      w.write("vision.onnx", int4, [&](GraphBuilder& g) { build_vision_graph(g, weights, VisionGraphNames{}); });
      w.write("embedding.onnx", false, [&](GraphBuilder& g) { build_embedding_graph(g, weights); });
      w.write("model.onnx", int4, [&](GraphBuilder& g) { build_decoder_graph(g, weights, DecoderForm::Multimodal); });
      weights.require_used(weights.specs().text.all());
    }

    for (const char* f : kSideFiles)
      if (fs::exists(fs::path(model_dir) / f)) {
        fs::copy_file(fs::path(model_dir) / f, tmp / f, fs::copy_options::overwrite_existing);
        w.files.push_back(f);
      }
    if (tjs) {
      write_json(tmp / "config.json", transformers_js_config(info, w.external));
    } else {
      fs::copy_file(fs::path(model_dir) / "config.json", tmp / "config.json", fs::copy_options::overwrite_existing);
      write_json(tmp / "genai_config.json", genai_config(info));
      w.files.push_back("genai_config.json");
      if (!options.text_only) {
        write_json(tmp / "processor_config.json", genai_processor_config(info));
        w.files.push_back("processor_config.json");
      }
    }
    w.files.push_back("config.json");

    // Into place: an existing export is replaced only once the new one is complete.
    output.commit();
  } catch (const fs::filesystem_error& e) {
    throw Error(std::string("export-onnx: ") + e.what());  // the temporary directory goes with `output`
  }

  OnnxExportResult result;
  result.files = w.files;
  for (const auto& f : result.files) result.bytes += fs::file_size(target / f);
  return result;
}

}  // namespace qwen3vl
