#include "qwen3vl/weights/tensor_spec.h"

namespace qwen3vl {

int64_t TensorSpec::numel() const {
  int64_t n = 1;
  for (int64_t d : shape) n *= d;
  return n;
}

int64_t TensorSpec::rows() const {
  if (kind == TensorKind::Experts) return shape.size() == 3 ? shape[2] : 0;
  return shape.empty() ? 1 : shape[0];
}

int64_t TensorSpec::cols() const {
  if (kind == TensorKind::Experts) return shape.size() == 3 ? shape[1] : 0;
  int64_t n = 1;
  for (size_t i = 1; i < shape.size(); ++i) n *= shape[i];
  return n;
}

void LinearSpec::append_to(std::vector<TensorSpec>& out) const {
  out.push_back(weight);
  if (bias) out.push_back(*bias);
}

void NormSpec::append_to(std::vector<TensorSpec>& out) const {
  out.push_back(weight);
  if (bias) out.push_back(*bias);
}

int64_t TensorSpec::experts() const { return kind == TensorKind::Experts && !shape.empty() ? shape[0] : 0; }

}  // namespace qwen3vl
