#include "qwen3vl/runtime/weight_formats.h"

#include <memory>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

WeightMatrix convert_weight_format(const WeightMatrix& stored, WeightFormat target, const std::string& name) {
  if (stored.format == target) return stored;
  switch (target) {
    case WeightFormat::Q8:
    case WeightFormat::Q4:
      return quantize_weight(stored, target);
    case WeightFormat::BF16:
    case WeightFormat::F32: {
      std::vector<float> row(static_cast<size_t>(stored.cols));
      if (target == WeightFormat::F32) {
        std::vector<float> all(static_cast<size_t>(stored.rows * stored.cols));
        for (int64_t r = 0; r < stored.rows; ++r) weight_row_to_f32(stored, r, all.data() + r * stored.cols);
        return make_f32_weight(stored.rows, stored.cols, std::move(all));
      }
      auto storage = std::make_shared<std::vector<uint16_t>>(static_cast<size_t>(stored.rows * stored.cols));
      for (int64_t r = 0; r < stored.rows; ++r) {
        weight_row_to_f32(stored, r, row.data());
        for (int64_t c = 0; c < stored.cols; ++c) (*storage)[r * stored.cols + c] = f32_to_bf16(row[c]);
      }
      WeightMatrix w;
      w.format = WeightFormat::BF16;
      w.rows = stored.rows;
      w.cols = stored.cols;
      w.data = storage->data();
      w.owner = storage;
      return w;
    }
    default:
      throw Error("cannot convert " + name + " to " + weight_format_name(target));
  }
}

WeightOptions weight_options_from_name(const std::string& name) {
  WeightOptions o;
  o.convert = convert_weight_format;
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

KVCacheType resolved_kv_cache_type(const LoadOptions& options) {
  if (options.kv_cache == "auto" || options.kv_cache.empty())
    return options.weights == "auto" || options.weights == "f32" || options.weights.empty() ? KVCacheType::F32
                                                                                             : KVCacheType::F16;
  return parse_kv_cache_type(options.kv_cache);
}

}  // namespace qwen3vl
