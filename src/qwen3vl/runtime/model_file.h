// qwen3vl model files: one file holding everything needed to run a model —
// its JSON configs, tokenizer, chat template and every tensor already in the
// format the engine computes with (Q8/Q4 in the kernels' tiled layout), so
// loading is a memory map plus zero-copy views. The container is a valid
// safetensors file; docs/model-file-format.md describes it byte by byte.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/weights/tensor_spec.h"

namespace qwen3vl {

// The version this build writes; it reads every file of the same major version.
constexpr int kModelFileMajorVersion = 2;
constexpr int kModelFileMinorVersion = 1;
// __metadata__ "format" value identifying a qwen3vl model file.
inline constexpr const char* kModelFileFormat = "qwen3vl";
// Tensor-name prefix of the embedded files (config.json, tokenizer.json, ...).
inline constexpr const char* kModelFileBlobPrefix = "file:";

// Names what a model file written now is readable by: the format version and
// the kernels' quantized block layout ("v1.0-<fingerprint>"). Caches of
// converted files key on it, so a build with another layout converts anew.
std::string model_file_compatibility_key();

struct QuantizeOptions {
  std::string quant = "q4";  // q4, q8 or bf16 (the meanings of --quant)
  int threads = 0;           // threads converting the weights (0: one per core)
  // Called after each tensor with (bytes of source done, total source bytes).
  std::function<void(uint64_t, uint64_t)> progress;
};

// Reads the Hugging Face checkpoint directory `hf_dir` and writes the model
// file `out_path`, tensor by tensor (never the whole model in memory; each
// source tensor's pages are released once written). Throws Error naming the
// file or tensor at fault; on failure nothing is left at `out_path`.
void write_model_file(const std::string& hf_dir, const std::string& out_path, const QuantizeOptions& options);

// Where write_model_file takes a model's tensors from, one at a time: a
// checkpoint's mapping, or values produced on demand (random weights), so
// no source ever needs the whole model in memory or on disk.
class ModelFileTensors {
 public:
  virtual ~ModelFileTensors() = default;
  // The tensor `spec` names as stored: name, dtype, shape and byte size (its
  // data may still be null). Throws Error naming the tensor when it is
  // absent or its shape is not spec.shape.
  virtual TensorView describe(const TensorSpec& spec) const = 0;
  // The same with its data, valid until the next load() or release().
  virtual const TensorView& load(const TensorSpec& spec) = 0;
  // `t` (from load()) is written: its memory or resident pages may go.
  virtual void release(const TensorView& t) = 0;
};

// The embedded files a model file stores, read from the checkpoint directory
// `dir` as (file name, bytes) in the order they are written: raw bytes,
// except the chat template, stored resolved from whichever of the
// directory's places holds it. Throws Error naming a required file missing.
std::vector<std::pair<std::string, std::string>> model_file_embedded_files(const std::string& dir);

// Writes the model file `out_path` for the model `config` describes: the
// embedded `files` (as model_file_embedded_files returns them) and every
// tensor of its specs from `tensors`, converted as options.quant asks and
// written tensor by tensor through an atomic temporary file. The file is the
// same, byte for byte, whatever the tensors' source, for the same values.
void write_model_file(const ModelConfig& config, const std::vector<std::pair<std::string, std::string>>& files,
                      ModelFileTensors& tensors, const std::string& out_path, const QuantizeOptions& options);

// True when `path` is a regular file (a model file, or something that claims
// to be one and will fail clearly in open_model_file); false for directories.
bool is_model_file_path(const std::string& path);

// An opened model file: the mapping (as a Checkpoint), its quantized tensors
// as ready weights (zero-copy views) and views of its embedded files, valid
// while `checkpoint` lives.
struct ModelFile {
  std::unique_ptr<Checkpoint> checkpoint;
  std::map<std::string, WeightMatrix> quantized;  // by tensor name; the prepared weights of a WeightSource
  std::string quant;  // as given to quantize: "q4", "q8" or "bf16"
  std::string_view config_json, generation_config_json, preprocessor_config_json;
  std::string_view video_preprocessor_config_json;  // empty when the checkpoint had none
  std::string_view tokenizer_json, tokenizer_config_json, chat_template;
  std::string version;  // "2.0"
};

// Opens and validates `path`: safetensors structure, format name, version
// (a newer major version is refused), embedded files, quantized tensors'
// formats and sizes. Throws Error naming the file and the item at fault.
ModelFile open_model_file(const std::string& path);

}  // namespace qwen3vl
