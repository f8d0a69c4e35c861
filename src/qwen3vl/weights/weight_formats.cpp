#include "qwen3vl/weights/weight_formats.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace {

size_t plain_element_bytes(const WeightMatrix& w, const std::string& name) {
  switch (w.format) {
    case WeightFormat::F32: return 4;
    case WeightFormat::BF16:
    case WeightFormat::F16: return 2;
    default: throw Error("tensor '" + name + "' is already " + weight_format_name(w.format) + "; cannot convert it");
  }
}

// Tiles handed to quantize_weight at a time: bounds its temporary output.
constexpr int64_t kTilesPerSlab = 32;

}  // namespace

WeightMatrix quantize_weight_parallel(const WeightMatrix& src, WeightFormat fmt, ThreadPool& pool) {
  const size_t elem = plain_element_bytes(src, "quantize_weight");
  check(src.rows > 0 && src.cols > 0, "quantize_weight: empty matrix");
  auto storage = std::make_shared<std::vector<uint8_t>>(quantized_weight_bytes(fmt, src.rows, src.cols));
  const size_t tile_bytes = quantized_weight_bytes(fmt, kQuantTileRows, src.cols);
  pool.parallel_for(quant_tiles(src.rows), kTilesPerSlab, [&](int64_t first, int64_t last) {
    for (int64_t t0 = first; t0 < last; t0 += kTilesPerSlab) {
      const int64_t t1 = std::min(last, t0 + kTilesPerSlab);
      WeightMatrix slab = src;
      slab.rows = std::min(t1 * kQuantTileRows, src.rows) - t0 * kQuantTileRows;
      slab.data = static_cast<const uint8_t*>(src.data) + static_cast<size_t>(t0 * kQuantTileRows * src.cols) * elem;
      slab.owner = nullptr;
      const WeightMatrix q = quantize_weight(slab, fmt);
      std::memcpy(storage->data() + static_cast<size_t>(t0) * tile_bytes, q.data,
                  static_cast<size_t>(t1 - t0) * tile_bytes);
    }
  });
  return quantized_weight_over(fmt, src.rows, src.cols, std::move(storage));
}

WeightMatrix convert_weight_format(const WeightMatrix& stored, WeightFormat target, const std::string& name,
                                   ThreadPool& pool) {
  if (stored.format == target) return stored;
  switch (target) {
    case WeightFormat::Q8:
    case WeightFormat::Q4:
      plain_element_bytes(stored, name);
      return quantize_weight_parallel(stored, target, pool);
    case WeightFormat::BF16:
    case WeightFormat::F32: {
      const int64_t cols = stored.cols;
      if (target == WeightFormat::F32) {
        std::vector<float> all(static_cast<size_t>(stored.rows * cols));
        pool.parallel_for(stored.rows, 64, [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) weight_row_to_f32(stored, r, all.data() + r * cols);
        });
        return make_f32_weight(stored.rows, cols, std::move(all));
      }
      auto storage = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(stored.rows * cols));
      pool.parallel_for(stored.rows, 64, [&](int64_t r0, int64_t r1) {
        std::vector<float> row(static_cast<size_t>(cols));
        for (int64_t r = r0; r < r1; ++r) {
          weight_row_to_f32(stored, r, row.data());
          for (int64_t c = 0; c < cols; ++c) (*storage)[r * cols + c] = f32_to_bf16(row[c]);
        }
      });
      WeightMatrix w;
      w.format = WeightFormat::BF16;
      w.rows = stored.rows;
      w.cols = cols;
      w.data = storage->data();
      w.owner = storage;
      return w;
    }
    default:
      throw Error("cannot convert " + name + " to " + weight_format_name(target));
  }
}

void prepare_converted_weights(WeightSource& source, const std::vector<TensorSpec>& specs,
                               const WeightOptions& options, const std::function<void(double)>& progress) {
  std::vector<const TensorSpec*> matrices;
  size_t total = 0, done = 0;
  for (const TensorSpec& s : specs) {
    if (!s.weight_class) continue;
    matrices.push_back(&s);
    total += source.tensors().get(s.name).nbytes;
  }
  for (const TensorSpec* s : matrices) {
    const std::optional<WeightFormat> target = options.format_for(*s);
    if (s->kind == TensorKind::Experts) {
      // Each expert is transposed (a copy) whatever the target: convert
      // only when the format changes, else the model code transposes it.
      const TensorView& tensor = source.tensors().get(s->name, s->shape);
      if (target && *target != stored_format(tensor)) {
        for (int64_t e = 0; e < s->experts(); ++e) {
          const std::string key = expert_weight_name(s->name, e);
          source.set_prepared(key, convert_weight(transposed_expert(tensor, e), target, options.convert, key));
        }
        release_mapped_pages(tensor.data, tensor.nbytes);
      }
      done += tensor.nbytes;
      if (progress && total) progress(double(done) / double(total));
      continue;
    }
    const WeightMatrix stored = stored_matrix(source, *s);
    const TensorView& tensor = source.tensors().get(s->name);
    if (target && *target != stored.format) {
      source.set_prepared(s->name, convert_weight(stored, target, options.convert, s->name));
      release_mapped_pages(tensor.data, tensor.nbytes);
    }
    done += tensor.nbytes;
    if (progress && total) progress(double(done) / double(total));
  }
}

WeightOptions weight_options_from_name(const std::string& name, ThreadPool& pool) {
  WeightOptions o;
  o.convert = [&pool](const WeightMatrix& stored, WeightFormat target, const std::string& tensor) {
    return convert_weight_format(stored, target, tensor, pool);
  };
  auto all = [&](WeightFormat f) { o.embedding_head = o.attention = o.mlp = o.vision = f; };
  if (name == "auto" || name.empty()) {
  } else if (name == "f32") {
    all(WeightFormat::F32);
  } else if (name == "bf16") {
    all(WeightFormat::BF16);
  } else if (name == "q8") {
    all(WeightFormat::Q8);
  } else if (name == "q4") {
    o.attention = o.mlp = WeightFormat::Q4;
    o.embedding_head = o.vision = WeightFormat::Q8;
  } else {
    throw Error("unknown weight format '" + name + "' (choose auto, f32, bf16, q8 or q4)");
  }
  return o;
}

}  // namespace qwen3vl
