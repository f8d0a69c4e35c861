#include "qwen3vl/model/weight_loading.h"

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

WeightMatrix linear_weight(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols) {
  if (const WeightMatrix* ready = ckpt.prepared(name)) {
    if (ready->rows != rows || ready->cols != cols)
      throw Error(ckpt.dir() + ": tensor '" + name + "' is a " + std::to_string(ready->rows) + "x" +
                  std::to_string(ready->cols) + " " + weight_format_name(ready->format) +
                  " matrix, the config needs " + std::to_string(rows) + "x" + std::to_string(cols));
    return *ready;
  }
  return tensor_as_weight(ckpt.get(name, {rows, cols}), rows, cols, "linear weights");
}

WeightMatrix tensor_as_weight(const TensorView& t, int64_t rows, int64_t cols, const std::string& what) {
  WeightMatrix w;
  switch (t.dtype) {
    case DType::F32: w.format = WeightFormat::F32; break;
    case DType::BF16: w.format = WeightFormat::BF16; break;
    case DType::F16: w.format = WeightFormat::F16; break;
    default:
      throw Error(t.file + ": tensor '" + t.name + "' has dtype " + dtype_name(t.dtype) + "; " + what +
                  " must be F32, BF16 or F16");
  }
  check(rows * cols == t.numel(), t.file + ": tensor '" + t.name + "' does not hold a " + std::to_string(rows) +
                                      "x" + std::to_string(cols) + " matrix");
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

WeightMatrix linear_weight(const Checkpoint& ckpt, const std::string& name, int64_t rows, int64_t cols,
                           WeightClass cls, const WeightOptions& options) {
  return convert_weight(linear_weight(ckpt, name, rows, cols), options.format_for(cls), options.convert,
                        name);
}

std::string expert_weight_name(const std::string& name, int64_t e) {
  return name + "[" + std::to_string(e) + "]";
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

}  // namespace

WeightMatrix transposed_expert(const TensorView& t, int64_t e, int64_t in, int64_t out) {
  const WeightMatrix all = tensor_as_weight(t, t.shape.empty() ? 0 : t.shape[0] * in, out, "expert weights");
  const size_t count = static_cast<size_t>(in * out);
  WeightMatrix w;
  w.format = all.format;
  w.rows = out;
  w.cols = in;
  if (all.format == WeightFormat::F32) {
    auto storage = std::make_shared<std::vector<float>>(count);
    transpose_matrix(static_cast<const float*>(all.data) + e * count, in, out, storage->data());
    w.data = storage->data();
    w.owner = storage;
  } else {
    auto storage = std::make_shared<std::vector<uint16_t>>(count);
    transpose_matrix(static_cast<const uint16_t*>(all.data) + e * count, in, out, storage->data());
    w.data = storage->data();
    w.owner = storage;
  }
  return w;
}

std::vector<WeightMatrix> expert_weights(const Checkpoint& ckpt, const std::string& name, int64_t experts,
                                         int64_t in, int64_t out, WeightClass cls, const WeightOptions& options) {
  std::vector<WeightMatrix> result;
  result.reserve(static_cast<size_t>(experts));
  if (ckpt.prepared(expert_weight_name(name, 0))) {
    for (int64_t e = 0; e < experts; ++e) {
      const std::string key = expert_weight_name(name, e);
      const WeightMatrix* ready = ckpt.prepared(key);
      if (!ready)
        throw Error(ckpt.dir() + ": expert " + std::to_string(e) + " of tensor '" + name +
                    "' is missing (the file holds fewer than the config's " + std::to_string(experts) + " experts)");
      if (ready->rows != out || ready->cols != in)
        throw Error(ckpt.dir() + ": expert " + std::to_string(e) + " of tensor '" + name + "' is a " +
                    std::to_string(ready->rows) + "x" + std::to_string(ready->cols) + " " +
                    weight_format_name(ready->format) + " matrix, the config needs " + std::to_string(out) + "x" +
                    std::to_string(in));
      result.push_back(*ready);
    }
    return result;
  }
  const TensorView& t = ckpt.get(name, {experts, in, out});
  for (int64_t e = 0; e < experts; ++e)
    result.push_back(convert_weight(transposed_expert(t, e, in, out), options.format_for(cls), options.convert,
                                    expert_weight_name(name, e)));
  // Every expert is a copy now: the stored pages need not stay resident.
  release_mapped_pages(t.data, t.nbytes);
  return result;
}

std::vector<float> vector_f32(const Checkpoint& ckpt, const std::string& name,
                              const std::vector<int64_t>& shape) {
  const TensorView& t = ckpt.get(name, shape);
  switch (t.dtype) {
    case DType::F32:
    case DType::BF16:
    case DType::F16:
    case DType::F64: return t.to_f32();
    default:
      throw Error(t.file + ": tensor '" + name + "' has dtype " + dtype_name(t.dtype) +
                  "; expected a floating-point tensor");
  }
}

}  // namespace qwen3vl
