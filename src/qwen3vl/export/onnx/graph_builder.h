// A thin layer over ONNX's protobuf classes for writing graphs by hand: every
// node is one call returning the name of its output, constants and weights
// are initializers, and value names are generated so graph code reads like
// the model code it mirrors. Large initializers go to a TensorStore as they
// are made (external data), so a graph of a model far larger than memory can
// be built: the GraphProto itself only holds their locations.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

namespace qwen3vl::onnx_export {

// ONNX element types used by the exporter (values are TensorProto::DataType).
enum class Elem : int {
  F32 = onnx::TensorProto::FLOAT,
  F16 = onnx::TensorProto::FLOAT16,
  I64 = onnx::TensorProto::INT64,
  I32 = onnx::TensorProto::INT32,
  U8 = onnx::TensorProto::UINT8,
  BOOL = onnx::TensorProto::BOOL,
};
size_t elem_size(Elem e);

// A dimension of a graph input or output: a fixed size or a symbolic name.
struct Dim {
  int64_t value = -1;
  std::string symbol;
  Dim(int64_t v) : value(v) {}                       // NOLINT: sizes read naturally
  Dim(const char* s) : symbol(s) {}                  // NOLINT
  Dim(std::string s) : symbol(std::move(s)) {}       // NOLINT
};

// One node attribute.
onnx::AttributeProto attr(const std::string& name, int64_t v);
onnx::AttributeProto attr(const std::string& name, float v);
onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& v);
onnx::AttributeProto attr(const std::string& name, const std::string& v);

// Where initializer bytes go. Implemented by the file writer (onnx_file.h).
class TensorStore {
 public:
  virtual ~TensorStore() = default;
  // Stores `bytes` for `tensor` (whose name, type and dims are set): either
  // inline (raw_data) or as external data.
  virtual void store(onnx::TensorProto& tensor, const void* bytes, size_t nbytes) = 0;
};

// Keeps everything inline (raw_data): small graphs and tests.
class InlineTensorStore : public TensorStore {
 public:
  void store(onnx::TensorProto& tensor, const void* bytes, size_t nbytes) override;
};

class GraphBuilder {
 public:
  GraphBuilder(const std::string& graph_name, TensorStore& store);

  onnx::GraphProto& graph() { return graph_; }

  // Declares a graph input; returns its name.
  std::string input(const std::string& name, Elem type, const std::vector<Dim>& dims);
  // Declares `value` as the graph output `name` (an Identity when the names differ).
  void output(const std::string& value, const std::string& name, Elem type, const std::vector<Dim>& dims);

  // A named initializer holding `nbytes` of `type` data of this shape; a
  // name used before gets a numeric suffix (returned).
  std::string initializer(const std::string& name, Elem type, const std::vector<int64_t>& shape,
                          const void* data, size_t nbytes);
  std::string weight_f32(const std::string& name, const std::vector<int64_t>& shape, const std::vector<float>& v);

  // Small constants (generated names; shape {} is a scalar).
  std::string const_i64(const std::vector<int64_t>& v, const std::vector<int64_t>& shape);
  std::string const_i64(std::initializer_list<int64_t> v) { return const_i64(std::vector<int64_t>(v), {int64_t(v.size())}); }
  std::string scalar_i64(int64_t v) { return const_i64({v}, {}); }
  std::string const_f32(const std::vector<float>& v, const std::vector<int64_t>& shape);
  std::string scalar_f32(float v) { return const_f32({v}, {}); }

  // A node of `op` with one output; returns its name.
  std::string op(const std::string& op, const std::vector<std::string>& inputs,
                 const std::vector<onnx::AttributeProto>& attrs = {}, const std::string& domain = "");
  // A node with `n` outputs.
  std::vector<std::string> op_n(const std::string& op, const std::vector<std::string>& inputs, int n,
                                const std::vector<onnx::AttributeProto>& attrs = {}, const std::string& domain = "");

  // Shorthands for the ops every graph uses.
  std::string add(const std::string& a, const std::string& b) { return op("Add", {a, b}); }
  std::string sub(const std::string& a, const std::string& b) { return op("Sub", {a, b}); }
  std::string mul(const std::string& a, const std::string& b) { return op("Mul", {a, b}); }
  std::string div(const std::string& a, const std::string& b) { return op("Div", {a, b}); }
  std::string matmul(const std::string& a, const std::string& b) { return op("MatMul", {a, b}); }
  std::string cast(const std::string& x, Elem to) { return op("Cast", {x}, {attr("to", int64_t(to))}); }
  std::string reshape(const std::string& x, const std::string& shape) { return op("Reshape", {x, shape}); }
  std::string reshape(const std::string& x, std::initializer_list<int64_t> shape) {
    return reshape(x, const_i64(shape));
  }
  std::string transpose(const std::string& x, const std::vector<int64_t>& perm) {
    return op("Transpose", {x}, {attr("perm", perm)});
  }
  std::string unsqueeze(const std::string& x, std::initializer_list<int64_t> axes) {
    return op("Unsqueeze", {x, const_i64(axes)});
  }
  std::string squeeze(const std::string& x, std::initializer_list<int64_t> axes) {
    return op("Squeeze", {x, const_i64(axes)});
  }
  std::string concat(const std::vector<std::string>& xs, int64_t axis) { return op("Concat", xs, {attr("axis", axis)}); }
  std::string gather(const std::string& x, const std::string& idx, int64_t axis) {
    return op("Gather", {x, idx}, {attr("axis", axis)});
  }
  // x.shape[dim] as a 1-element int64 vector.
  std::string dim(const std::string& x, int64_t dim);
  // x[start:end] along `axis` (end may be a value name).
  std::string slice(const std::string& x, const std::string& start, const std::string& end, int64_t axis);

  // A fresh value name with a readable prefix.
  std::string fresh(const std::string& prefix);

 private:
  onnx::GraphProto graph_;
  TensorStore& store_;
  std::map<std::string, int> counters_;
  std::map<std::string, int> initializer_names_;
};

// An ONNX model around a finished graph: IR version, opset imports (the
// default domain at kOpset, plus com.microsoft when `microsoft_ops`).
constexpr int64_t kOpset = 17;
onnx::ModelProto make_model(onnx::GraphProto graph, bool microsoft_ops);

}  // namespace qwen3vl::onnx_export
