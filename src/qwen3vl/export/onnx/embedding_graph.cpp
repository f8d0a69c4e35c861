#include "qwen3vl/export/onnx/embedding_graph.h"

#include <vector>

namespace qwen3vl::onnx_export {

void build_embedding_graph(GraphBuilder& g, ExportWeights& w) {
  const ModelConfig& c = w.config();
  const int64_t H = c.text.hidden_size;
  const size_t levels = c.vision.deepstack_visual_indexes.size();
  const std::string ids = g.input("input_ids", Elem::I64, {"batch_size", "sequence_length"});
  const std::string features = g.input("image_features", Elem::F32, {"num_image_tokens", H});
  std::vector<std::string> deepstack;
  for (size_t j = 0; j < levels; ++j)
    deepstack.push_back(g.input("deepstack_features_" + std::to_string(j), Elem::F32, {"num_image_tokens", H}));

  const std::string text = w.embedding(g, ids, w.specs().text.embed_tokens);
  // Image-pad rows take feature rows in order: row index = running count of
  // image tokens - 1 over the flattened batch; other rows point one past the
  // last feature, at an appended zero row (also valid with no features).
  const std::string is_image = g.op("Equal", {ids, g.scalar_i64(c.image_token_id)});
  const std::string flat = g.reshape(g.cast(is_image, Elem::I64), {-1});
  const std::string rank = g.sub(g.op("CumSum", {flat, g.scalar_i64(0)}), g.scalar_i64(1));
  const std::string tokens = g.squeeze(g.dim(features, 0), {0});
  const std::string row = g.reshape(g.op("Where", {g.reshape(is_image, {-1}), rank, tokens}), g.op("Shape", {ids}));
  const std::string zero_row = g.const_f32(std::vector<float>(static_cast<size_t>(H), 0.0f), {1, H});
  auto aligned = [&](const std::string& rows) { return g.gather(g.concat({rows, zero_row}, 0), row, 0); };

  const std::string embeds = g.op("Where", {g.unsqueeze(is_image, {-1}), aligned(features), text});
  g.output(embeds, "inputs_embeds", Elem::F32, {"batch_size", "sequence_length", H});
  for (size_t j = 0; j < levels; ++j)
    g.output(aligned(deepstack[j]), "deepstack_embeds_" + std::to_string(j), Elem::F32,
             {"batch_size", "sequence_length", H});
}

void build_wide_embedding_graph(GraphBuilder& g, ExportWeights& w) {
  const ModelConfig& c = w.config();
  const int64_t H = c.text.hidden_size;
  const int64_t levels = static_cast<int64_t>(c.vision.deepstack_visual_indexes.size());
  const std::string ids = g.input("input_ids", Elem::I64, {"batch_size", "sequence_length"});
  std::string embeds = w.embedding(g, ids, w.specs().text.embed_tokens);
  if (levels > 0) {
    // Zero DeepStack columns: [batch, seq, H*levels] shaped like the ids.
    const std::string shape = g.concat({g.op("Shape", {ids}), g.const_i64({H * levels})}, 0);
    const std::string zeros = g.op("Expand", {g.scalar_f32(0.0f), shape});
    embeds = g.concat({embeds, zeros}, -1);
  }
  g.output(embeds, "inputs_embeds", Elem::F32, {"batch_size", "sequence_length", H * (1 + levels)});
}

}  // namespace qwen3vl::onnx_export
