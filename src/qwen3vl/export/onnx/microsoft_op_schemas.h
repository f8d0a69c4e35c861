// ONNX's own library knows nothing of ONNX Runtime's com.microsoft operators,
// so its checker and shape inference would pass over our MatMulNBits nodes
// unchecked. These schemas (written from ONNX Runtime's documented operator
// contracts) let both check them and infer their output shapes like any
// standard op.
#pragma once

namespace qwen3vl::onnx_export {

// Registers the schemas once per process (idempotent, thread-safe).
void register_microsoft_op_schemas();

}  // namespace qwen3vl::onnx_export
