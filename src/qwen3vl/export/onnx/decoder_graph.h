// The text decoder as an ONNX graph with a KV cache: Qwen3 layers (RMSNorm,
// q/k RMSNorm per head, GQA attention, SwiGLU MLP) with interleaved M-RoPE
// computed in the graph from position_ids, DeepStack levels added to the
// hidden states after the first layers, the final norm and the LM head.
//
// Inputs: attention_mask [batch, past + seq] (1 = attend), position_ids,
// past_key_values.{i}.key / .value [batch, kv_heads, past, head_dim];
// outputs: logits [batch, seq, vocab], present.{i}.key / .value
// [batch, kv_heads, past + seq, head_dim]. The embedding input depends on
// the form:
//   Multimodal:   inputs_embeds [batch, seq, H], deepstack_embeds_{j}
//                 [batch, seq, H], position_ids [3, batch, seq] (t, h, w).
//   WideEmbeds:   inputs_embeds [batch, seq, H * (1 + levels)] (transformers.js:
//                 DeepStack level j in columns H*(1+j)..), position_ids [3, batch, seq];
//                 a row whose positions exceed its index (transformers.js's
//                 text-only rope delta, see decoder_graph.cpp) gets the text
//                 position cumsum(attention_mask) - 1 instead.
//   TextOnly:     input_ids [batch, seq] (embedding inside), position_ids
//                 [batch, seq] (plain RoPE: M-RoPE with equal positions).
#pragma once
#include "qwen3vl/export/onnx/export_weights.h"
#include "qwen3vl/export/onnx/graph_builder.h"

namespace qwen3vl::onnx_export {

enum class DecoderForm { Multimodal, WideEmbeds, TextOnly };

void build_decoder_graph(GraphBuilder& g, ExportWeights& w, DecoderForm form);

}  // namespace qwen3vl::onnx_export
