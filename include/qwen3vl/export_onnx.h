// Export of a Qwen3-VL checkpoint to ONNX, built from the loaded model's own
// description of its tensors (no PyTorch involved). See README "Export to
// ONNX" for the layouts and what each file's inputs and outputs are.
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/qwen3vl.h"

namespace qwen3vl {

struct OnnxExportOptions {
  // "genai": onnxruntime-genai's qwen3_vl layout (vision.onnx, embedding.onnx,
  // model.onnx, genai_config.json, processor_config.json);
  // "transformers.js": onnx/vision_encoder*.onnx, onnx/embed_tokens*.onnx,
  // onnx/decoder_model_merged*.onnx for npm @huggingface/transformers.
  std::string layout = "genai";
  // "fp32" (standard ONNX ops only), "fp16" (float16 weights, float32
  // compute), "int4" (com.microsoft MatMulNBits: int4 attention/MLP and int8
  // head, as our q4 format; float16 elsewhere).
  std::string precision = "fp32";
  int block_size = 32;  // int4: weights per scale (32, 64 or 128)
  // The language model alone as a plain causal LM (input_ids in, 1-D
  // positions): model.onnx (genai) or onnx/model*.onnx (transformers.js).
  bool text_only = false;
  // Keep every graph's weights in a data file beside it (".onnx.data", or
  // "_data" for transformers.js), page-aligned so a runtime can map them.
  // Graphs whose weights pass protobuf's 2 GB limit always do.
  bool external_data = false;
  // Called as files are written: stage (file name) and bytes written so far
  // of `total_bytes` (an estimate of the weight bytes).
  std::function<void(const std::string& stage, uint64_t bytes, uint64_t total_bytes)> progress;
};

struct OnnxExportResult {
  std::vector<std::string> files;  // relative to the output directory
  uint64_t bytes = 0;              // total size on disk
};

// Exports the Hugging Face checkpoint directory `model_dir` into `out_dir`.
// Every .onnx file passes the ONNX checker and strict shape inference before
// this returns. The export is assembled in a temporary directory beside
// `out_dir` and renamed into place at the end (replacing an existing
// `out_dir`): a failure leaves nothing half-written. Throws Error naming
// what cannot be exported.
OnnxExportResult export_onnx(const std::string& model_dir, const std::string& out_dir,
                             const OnnxExportOptions& options = {});

// What an exported model takes for a prompt, prepared exactly as our own
// pipeline does (chat template, tokenizer, image decoding and preprocessing,
// <|image_pad|> expansion, 3-D rope positions). `model` may be loaded
// without weights (LoadOptions::load_weights = false), from a checkpoint or
// an export directory (both hold config, tokenizer and template).
struct OnnxPromptInputs {
  std::vector<int64_t> input_ids;       // [seq]
  std::vector<float> pixel_values;      // [patches, patch_dim]
  int64_t patch_dim = 0;
  std::vector<int64_t> image_grid_thw;  // [images, 3]
  std::vector<int64_t> position_ids;    // [3, seq]: rows t, h, w
  int64_t rope_delta = 0;               // decode step s (cache position) uses s + rope_delta
};
// Relative image paths are resolved against `base_dir` when not found as given.
OnnxPromptInputs prepare_onnx_inputs(const Model& model, const Json& messages, const GenerateOptions& options = {},
                                     const std::string& base_dir = "");

}  // namespace qwen3vl
