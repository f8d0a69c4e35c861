#include "qwen3vl/weights/weight_loading.h"

#include <memory>

#include "qwen3vl/base/error.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

std::optional<WeightFormat> WeightOptions::format_for(WeightClass c) const {
  switch (c) {
    case WeightClass::EmbeddingHead: return embedding_head;
    case WeightClass::Attention: return attention;
    case WeightClass::Mlp: return mlp;
    case WeightClass::Vision: return vision;
  }
  return std::nullopt;
}

std::optional<WeightFormat> WeightOptions::format_for(const TensorSpec& spec) const {
  if (!spec.weight_class) return std::nullopt;
  return format_for(*spec.weight_class);
}

WeightMatrix stored_matrix(const WeightSource& source, const TensorSpec& spec) {
  const int64_t rows = spec.rows(), cols = spec.cols();
  if (const WeightMatrix* ready = source.prepared(spec.name)) {
    if (ready->rows != rows || ready->cols != cols)
      throw Error(source.tensors().dir() + ": tensor '" + spec.name + "' is a " + std::to_string(ready->rows) + "x" +
                  std::to_string(ready->cols) + " " + weight_format_name(ready->format) +
                  " matrix, the config needs " + std::to_string(rows) + "x" + std::to_string(cols));
    return *ready;
  }
  const TensorView& t = source.tensors().get(spec.name, spec.shape);
  WeightMatrix w;
  switch (t.dtype) {
    case DType::F32: w.format = WeightFormat::F32; break;
    case DType::BF16: w.format = WeightFormat::BF16; break;
    case DType::F16: w.format = WeightFormat::F16; break;
    default:
      throw Error(t.file + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                  "; weight matrices must be F32, BF16 or F16");
  }
  w.rows = rows;
  w.cols = cols;
  w.data = t.data;  // points into the mapping, which the Checkpoint keeps alive
  return w;
}

WeightMatrix convert_weight(const WeightMatrix& stored, std::optional<WeightFormat> target,
                            const WeightConverter& convert, const std::string& name) {
  if (!target || *target == stored.format) return stored;
  if (*target == WeightFormat::F32 &&
      (stored.format == WeightFormat::BF16 || stored.format == WeightFormat::F16)) {
    const DType from = stored.format == WeightFormat::BF16 ? DType::BF16 : DType::F16;
    std::vector<float> values(static_cast<size_t>(stored.rows * stored.cols));
    convert_to_f32(from, stored.data, values.data(), values.size());
    return make_f32_weight(stored.rows, stored.cols, std::move(values));
  }
  if (!convert)
    throw Error("tensor '" + name + "': converting " + weight_format_name(stored.format) + " to " +
                weight_format_name(*target) + " is not available in this build");
  WeightMatrix out = convert(stored, *target, name);
  check(out.rows == stored.rows && out.cols == stored.cols,
        "tensor '" + name + "': conversion to " + weight_format_name(*target) + " changed the shape");
  return out;
}

WeightMatrix load_matrix(const WeightSource& source, const TensorSpec& spec, const WeightOptions& options) {
  return convert_weight(stored_matrix(source, spec), options.format_for(spec), options.convert, spec.name);
}

std::vector<float> load_vector(const WeightSource& source, const TensorSpec& spec) {
  const TensorView& t = source.tensors().get(spec.name, spec.shape);
  switch (t.dtype) {
    case DType::F32:
    case DType::BF16:
    case DType::F16:
    case DType::F64: return t.to_f32();
    default:
      throw Error(t.file + ": tensor '" + spec.name + "' has dtype " + dtype_name(t.dtype) +
                  "; expected a floating-point tensor");
  }
}

std::vector<float> load_vector(const WeightSource& source, const std::optional<TensorSpec>& spec) {
  return spec ? load_vector(source, *spec) : std::vector<float>{};
}

}  // namespace qwen3vl
