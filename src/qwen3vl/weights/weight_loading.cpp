#include "qwen3vl/weights/weight_loading.h"

#include <algorithm>
#include <memory>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
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

WeightFormat stored_format(const TensorView& t) {
  switch (t.dtype) {
    case DType::F32: return WeightFormat::F32;
    case DType::BF16: return WeightFormat::BF16;
    case DType::F16: return WeightFormat::F16;
    default:
      throw Error(t.file + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) +
                  "; weight matrices must be F32, BF16 or F16");
  }
}

namespace {

// dst[c * rows + r] = src[r * cols + c] for a [rows, cols] matrix of `T`, in
// square blocks so both sides stay in cache.
template <typename T>
void transpose_matrix(const T* src, int64_t rows, int64_t cols, T* dst) {
  constexpr int64_t kBlock = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kBlock)
    for (int64_t c0 = 0; c0 < cols; c0 += kBlock) {
      const int64_t r1 = std::min(rows, r0 + kBlock), c1 = std::min(cols, c0 + kBlock);
      for (int64_t r = r0; r < r1; ++r)
        for (int64_t c = c0; c < c1; ++c) dst[c * rows + r] = src[r * cols + c];
    }
}

template <typename T>
WeightMatrix transposed_copy(const void* data, int64_t in, int64_t out, WeightMatrix w) {
  auto storage = std::make_shared<std::vector<T>>(static_cast<size_t>(in * out));
  transpose_matrix(static_cast<const T*>(data), in, out, storage->data());
  w.data = storage->data();
  w.owner = storage;
  return w;
}

}  // namespace

WeightMatrix stored_matrix(const WeightSource& source, const TensorSpec& spec) {
  const int64_t rows = spec.rows(), cols = spec.cols();
  if (const WeightMatrix* ready = source.prepared(spec.name)) {
    if (ready->rows != rows || ready->cols != cols)
      throw Error(source.tensors().dir() + ": tensor '" + spec.name + "' is a " + std::to_string(ready->rows) + "x" +
                  std::to_string(ready->cols) + " " + weight_format_name(ready->format) +
                  " matrix, the config needs " + std::to_string(rows) + "x" + std::to_string(cols));
    return *ready;
  }
  return stored_matrix_view(source.tensors().get(spec.name, spec.shape), spec);
}

WeightMatrix stored_matrix_view(const TensorView& t, const TensorSpec& spec) {
  WeightMatrix w;
  w.format = stored_format(t);
  w.rows = spec.rows();
  w.cols = spec.cols();
  w.data = t.data;  // a view: whoever holds `t` (a Checkpoint's mapping) keeps it alive
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

std::string expert_weight_name(const std::string& name, int64_t e) {
  return name + "[" + std::to_string(e) + "]";
}

WeightMatrix transposed_expert(const TensorView& t, int64_t e) {
  check(t.shape.size() == 3 && e >= 0 && e < t.shape[0],
        t.file + ": tensor '" + t.name + "' has no expert " + std::to_string(e));
  const int64_t in = t.shape[1], out = t.shape[2];
  WeightMatrix w;
  w.format = stored_format(t);
  w.rows = out;
  w.cols = in;
  const size_t offset = static_cast<size_t>(e * in * out) * dtype_size(t.dtype);
  const void* slab = static_cast<const uint8_t*>(t.data) + offset;
  return w.format == WeightFormat::F32 ? transposed_copy<float>(slab, in, out, w)
                                       : transposed_copy<uint16_t>(slab, in, out, w);
}

std::vector<WeightMatrix> load_experts(const WeightSource& source, const TensorSpec& spec,
                                       const WeightOptions& options) {
  const int64_t experts = spec.experts(), rows = spec.rows(), cols = spec.cols();
  check(experts > 0, "load_experts: tensor '" + spec.name + "' is not a fused expert tensor");
  std::vector<WeightMatrix> result;
  result.reserve(static_cast<size_t>(experts));
  if (source.prepared(expert_weight_name(spec.name, 0))) {
    for (int64_t e = 0; e < experts; ++e) {
      const WeightMatrix* ready = source.prepared(expert_weight_name(spec.name, e));
      if (!ready)
        throw Error(source.tensors().dir() + ": expert " + std::to_string(e) + " of tensor '" + spec.name +
                    "' is missing (the file holds fewer than the config's " + std::to_string(experts) + " experts)");
      if (ready->rows != rows || ready->cols != cols)
        throw Error(source.tensors().dir() + ": expert " + std::to_string(e) + " of tensor '" + spec.name + "' is a " +
                    std::to_string(ready->rows) + "x" + std::to_string(ready->cols) + " " +
                    weight_format_name(ready->format) + " matrix, the config needs " + std::to_string(rows) + "x" +
                    std::to_string(cols));
      result.push_back(*ready);
    }
    return result;
  }
  const TensorView& t = source.tensors().get(spec.name, spec.shape);
  for (int64_t e = 0; e < experts; ++e) {
    const std::string key = expert_weight_name(spec.name, e);
    result.push_back(convert_weight(transposed_expert(t, e), options.format_for(spec), options.convert, key));
  }
  // Every expert is a copy now: the stored pages need not stay resident.
  release_mapped_pages(t.data, t.nbytes);
  return result;
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
