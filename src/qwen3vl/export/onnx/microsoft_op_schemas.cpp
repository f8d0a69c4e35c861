#include "qwen3vl/export/onnx/microsoft_op_schemas.h"

#include <mutex>

#include <onnx/defs/schema.h>
#include <onnx/defs/shape_inference.h>

namespace qwen3vl::onnx_export {

namespace {

// Y = A @ dequant(B)^T: A [..., K] -> Y [..., N].
void register_matmul_nbits() {
  using onnx::AttributeProto;
  using onnx::OpSchema;
  OpSchema s;
  s.SetName("MatMulNBits")
      .SetDomain("com.microsoft")
      .SinceVersion(1)
      .SetDoc("MatMul with a block-quantized N-bit constant right-hand side (ONNX Runtime contrib op).")
      .Input(0, "A", "activations [..., K]", "T1")
      .Input(1, "B", "packed weights [N, blocks, block_size * bits / 8]", "T2")
      .Input(2, "scales", "one scale per block [N * blocks]", "T1")
      .Input(3, "zero_points", "optional zero points", "T3", OpSchema::Optional)
      .Input(4, "g_idx", "optional group index", "T4", OpSchema::Optional)
      .Input(5, "bias", "optional bias [N]", "T1", OpSchema::Optional)
      .Output(0, "Y", "[..., N]", "T1")
      .Attr("K", "input features", AttributeProto::INT)
      .Attr("N", "output features", AttributeProto::INT)
      .Attr("bits", "bits per weight", AttributeProto::INT, int64_t(4))
      .Attr("block_size", "weights per scale", AttributeProto::INT)
      .Attr("accuracy_level", "minimum compute precision", AttributeProto::INT, int64_t(0))
      .TypeConstraint("T1", {"tensor(float)", "tensor(float16)"}, "activations and scales")
      .TypeConstraint("T2", {"tensor(uint8)", "tensor(int32)"}, "packed weights")
      .TypeConstraint("T3", {"tensor(uint8)", "tensor(int32)", "tensor(float16)", "tensor(float)"}, "zero points")
      .TypeConstraint("T4", {"tensor(int32)"}, "group index")
      .TypeAndShapeInferenceFunction([](onnx::InferenceContext& ctx) {
        onnx::propagateElemTypeFromInputToOutput(ctx, 0, 0);
        if (!onnx::hasInputShape(ctx, 0)) return;
        const auto& a = onnx::getInputShape(ctx, 0);
        if (a.dim_size() == 0) fail_shape_inference("MatMulNBits: A must have at least one dimension");
        const int64_t k = onnx::getAttribute(ctx, "K", int64_t(-1));
        const int64_t n = onnx::getAttribute(ctx, "N", int64_t(-1));
        const auto& last = a.dim(a.dim_size() - 1);
        if (last.has_dim_value() && last.dim_value() != k)
          fail_shape_inference("MatMulNBits: A's last dimension ", last.dim_value(), " != K ", k);
        onnx::TensorShapeProto y;
        for (int i = 0; i + 1 < a.dim_size(); ++i) *y.add_dim() = a.dim(i);
        y.add_dim()->set_dim_value(n);
        onnx::updateOutputShape(ctx, 0, y);
      });
  onnx::OpSchemaRegistry::OpSchemaRegisterOnce once(s);
}

}  // namespace

void register_microsoft_op_schemas() {
  static std::once_flag flag;
  std::call_once(flag, [] {
    onnx::OpSchemaRegistry::DomainToVersionRange::Instance().AddDomainToVersion("com.microsoft", 1, 1);
    register_matmul_nbits();
  });
}

}  // namespace qwen3vl::onnx_export
