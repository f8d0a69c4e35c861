// The token embedding as an ONNX graph, with the image features scattered
// into the rows of the image-pad tokens (in order, as the reference's
// masked_scatter) and each DeepStack level aligned to the sequence (zero on
// text rows), so the decoder only adds them.
//
// genai layout: inputs input_ids [batch, seq], image_features [tokens, H] and
// deepstack_features_{j} [tokens, H] (the vision graph's outputs, zero rows
// for a text-only call); outputs inputs_embeds [batch, seq, H] and
// deepstack_embeds_{j} [batch, seq, H].
//
// transformers.js layout (embed_tokens.onnx): input_ids only; inputs_embeds
// is [batch, seq, H * (1 + levels)] with the DeepStack columns zero, the
// width of the vision encoder's rows, so transformers.js's own scatter of
// image features into image-token rows carries the DeepStack levels along.
#pragma once
#include "qwen3vl/export/onnx/export_weights.h"
#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

void build_embedding_graph(GraphBuilder& g, ExportWeights& w);
void build_wide_embedding_graph(GraphBuilder& g, ExportWeights& w);

}  // namespace qwen3vl::onnx_export
