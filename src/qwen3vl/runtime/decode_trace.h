// The integer traces of a generation's decode steps, for dumps: each step's
// int64 tensors (a MoE model's routing, router_topk_ids_layer{i}, one row per
// step) concatenated over the steps and handed on as generated_<name>, which
// is how the reference records the routing of every generated token.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "qwen3vl/model/forward_context.h"

namespace qwen3vl {

class DecodeTrace {
 public:
  DecodeTrace();
  DecodeTrace(const DecodeTrace&) = delete;
  DecodeTrace& operator=(const DecodeTrace&) = delete;

  // The sink to run decode steps with (it refers to this object).
  const TensorSink& sink() const { return sink_; }
  // Steps recorded so far (rows of the first trace; 0 when none).
  int64_t steps() const;
  // Emits every trace as generated_<name>, [rows, cols].
  void emit_to(const TensorSink& out) const;

 private:
  struct Trace {
    std::vector<int64_t> values;
    int64_t cols = 0;
  };
  std::map<std::string, Trace> traces_;
  TensorSink sink_;
};

}  // namespace qwen3vl
