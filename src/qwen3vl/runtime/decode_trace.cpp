#include "qwen3vl/runtime/decode_trace.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl {

DecodeTrace::DecodeTrace() {
  sink_.i64 = [this](const std::string& name, const std::vector<int64_t>& shape, const int64_t* data) {
    int64_t numel = 1;
    for (int64_t d : shape) numel *= d;
    Trace& t = traces_[name];
    const int64_t cols = shape.size() > 1 ? numel / shape[0] : 1;
    check(t.values.empty() || t.cols == cols, "decode trace " + name + ": the row width changed between steps");
    t.cols = cols;
    t.values.insert(t.values.end(), data, data + numel);
  };
}

int64_t DecodeTrace::steps() const {
  if (traces_.empty()) return 0;
  const Trace& t = traces_.begin()->second;
  return t.cols > 0 ? static_cast<int64_t>(t.values.size()) / t.cols : 0;
}

void DecodeTrace::emit_to(const TensorSink& out) const {
  for (const auto& [name, t] : traces_)
    out.put("generated_" + name, {static_cast<int64_t>(t.values.size()) / t.cols, t.cols}, t.values.data());
}

}  // namespace qwen3vl
