#include "qwen3vl/export/onnx/graph_builder.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl::onnx_export {

size_t elem_size(Elem e) {
  switch (e) {
    case Elem::F32: return 4;
    case Elem::F16: return 2;
    case Elem::I64: return 8;
    case Elem::I32: return 4;
    case Elem::U8: return 1;
    case Elem::BOOL: return 1;
  }
  return 0;
}

onnx::AttributeProto attr(const std::string& name, int64_t v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INT);
  a.set_i(v);
  return a;
}

onnx::AttributeProto attr(const std::string& name, float v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::FLOAT);
  a.set_f(v);
  return a;
}

onnx::AttributeProto attr(const std::string& name, const std::vector<int64_t>& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::INTS);
  for (int64_t x : v) a.add_ints(x);
  return a;
}

onnx::AttributeProto attr(const std::string& name, const std::string& v) {
  onnx::AttributeProto a;
  a.set_name(name);
  a.set_type(onnx::AttributeProto::STRING);
  a.set_s(v);
  return a;
}

void InlineTensorStore::store(onnx::TensorProto& tensor, const void* bytes, size_t nbytes) {
  tensor.set_raw_data(bytes, nbytes);
}

namespace {

void set_type(onnx::ValueInfoProto& vi, const std::string& name, Elem type, const std::vector<Dim>& dims) {
  vi.set_name(name);
  auto* tt = vi.mutable_type()->mutable_tensor_type();
  tt->set_elem_type(static_cast<int>(type));
  auto* shape = tt->mutable_shape();
  for (const Dim& d : dims) {
    auto* sd = shape->add_dim();
    if (d.symbol.empty()) {
      sd->set_dim_value(d.value);
    } else {
      sd->set_dim_param(d.symbol);
    }
  }
}

}  // namespace

GraphBuilder::GraphBuilder(const std::string& graph_name, TensorStore& store) : store_(store) {
  graph_.set_name(graph_name);
}

std::string GraphBuilder::fresh(const std::string& prefix) {
  return prefix + "_" + std::to_string(counters_[prefix]++);
}

std::string GraphBuilder::input(const std::string& name, Elem type, const std::vector<Dim>& dims) {
  set_type(*graph_.add_input(), name, type, dims);
  return name;
}

void GraphBuilder::output(const std::string& value, const std::string& name, Elem type, const std::vector<Dim>& dims) {
  if (value != name) {
    auto* n = graph_.add_node();
    n->set_op_type("Identity");
    n->set_name(fresh("Identity"));
    n->add_input(value);
    n->add_output(name);
  }
  set_type(*graph_.add_output(), name, type, dims);
}

std::string GraphBuilder::initializer(const std::string& name, Elem type, const std::vector<int64_t>& shape,
                                      const void* data, size_t nbytes) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  check(n * elem_size(type) == nbytes, "onnx export: initializer " + name + " has " + std::to_string(nbytes) +
                                           " bytes for " + std::to_string(n) + " elements");
  const int seen = initializer_names_[name]++;
  const std::string unique = seen == 0 ? name : name + "_" + std::to_string(seen);
  onnx::TensorProto* t = graph_.add_initializer();
  t->set_name(unique);
  t->set_data_type(static_cast<int>(type));
  for (int64_t d : shape) t->add_dims(d);
  store_.store(*t, data, nbytes);
  return unique;
}

std::string GraphBuilder::weight_f32(const std::string& name, const std::vector<int64_t>& shape,
                                     const std::vector<float>& v) {
  return initializer(name, Elem::F32, shape, v.data(), v.size() * 4);
}

std::string GraphBuilder::const_i64(const std::vector<int64_t>& v, const std::vector<int64_t>& shape) {
  onnx::TensorProto* t = graph_.add_initializer();
  const std::string name = fresh("const_i64");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::INT64);
  for (int64_t d : shape) t->add_dims(d);
  for (int64_t x : v) t->add_int64_data(x);
  return name;
}

std::string GraphBuilder::const_f32(const std::vector<float>& v, const std::vector<int64_t>& shape) {
  onnx::TensorProto* t = graph_.add_initializer();
  const std::string name = fresh("const_f32");
  t->set_name(name);
  t->set_data_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) t->add_dims(d);
  for (float x : v) t->add_float_data(x);
  return name;
}

std::vector<std::string> GraphBuilder::op_n(const std::string& op, const std::vector<std::string>& inputs, int n,
                                            const std::vector<onnx::AttributeProto>& attrs,
                                            const std::string& domain) {
  auto* node = graph_.add_node();
  node->set_op_type(op);
  node->set_name(fresh(op));
  if (!domain.empty()) node->set_domain(domain);
  for (const auto& i : inputs) node->add_input(i);
  std::vector<std::string> outs;
  for (int k = 0; k < n; ++k) {
    outs.push_back(fresh(op + "_out"));
    node->add_output(outs.back());
  }
  for (const auto& a : attrs) *node->add_attribute() = a;
  return outs;
}

std::string GraphBuilder::op(const std::string& op, const std::vector<std::string>& inputs,
                             const std::vector<onnx::AttributeProto>& attrs, const std::string& domain) {
  return op_n(op, inputs, 1, attrs, domain)[0];
}

std::string GraphBuilder::dim(const std::string& x, int64_t d) {
  return op("Shape", {x}, {attr("start", d), attr("end", d + 1)});
}

std::string GraphBuilder::slice(const std::string& x, const std::string& start, const std::string& end, int64_t axis) {
  return op("Slice", {x, start, end, const_i64({axis})});
}

onnx::ModelProto make_model(onnx::GraphProto graph, bool microsoft_ops) {
  onnx::ModelProto m;
  m.set_ir_version(8);  // onnx 1.10+; what opset 17 needs and every current runtime reads
  m.set_producer_name("qwen3vl");
  m.set_producer_version("1");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(kOpset);
  if (microsoft_ops) {
    auto* ms = m.add_opset_import();
    ms->set_domain("com.microsoft");
    ms->set_version(1);
  }
  *m.mutable_graph() = std::move(graph);
  return m;
}

}  // namespace qwen3vl::onnx_export
