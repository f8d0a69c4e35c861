#include "qwen3vl/kernels/quant.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <string>

#include "qwen3vl/base/error.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/kernels/matmul.h"
#include "qwen3vl/kernels/matmul_kernels.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace {

bool is_quantized(WeightFormat f) { return f == WeightFormat::Q8 || f == WeightFormat::Q4; }

int max_level(WeightFormat f) { return f == WeightFormat::Q8 ? 127 : 7; }

// Byte offset of weight (r, j) — row r of the tile, input j of the group —
// inside a block, and for Q4 whether it is the high nibble.
size_t weight_byte(WeightFormat f, int r, int j, bool* high_nibble) {
  if (f == WeightFormat::Q8) {
    *high_nibble = false;
    return kQuantScaleBytes + (j / 4) * 64 + 4 * r + (j % 4);
  }
  const int within = j % 8;
  *high_nibble = within >= 4;
  return kQuantScaleBytes + (j / 8) * 64 + 4 * r + (within % 4);
}

// The signed quantized values of one block: q[r][j].
void decode_block(WeightFormat f, const uint8_t* block, int8_t q[kQuantTileRows][kQuantGroup]) {
  for (int r = 0; r < kQuantTileRows; ++r) {
    for (int j = 0; j < kQuantGroup; ++j) {
      bool high;
      const uint8_t byte = block[weight_byte(f, r, j, &high)];
      if (f == WeightFormat::Q8) {
        q[r][j] = static_cast<int8_t>(static_cast<int>(byte) - 128);
      } else {
        q[r][j] = static_cast<int8_t>(static_cast<int>(high ? byte >> 4 : byte & 0xf) - 8);
      }
    }
  }
}

float block_scale(const uint8_t* block, int r) {
  uint16_t h;
  std::memcpy(&h, block + 2 * r, 2);
  return f16_to_f32(h);
}

const uint8_t* block_at(const WeightMatrix& w, int64_t tile, int64_t group) {
  const size_t bytes = quant_block_bytes(w.format);
  return static_cast<const uint8_t*>(w.data) +
         (static_cast<size_t>(tile) * quant_groups(w.cols) + group) * bytes;
}

}  // namespace

size_t quant_block_bytes(WeightFormat fmt) {
  switch (fmt) {
    case WeightFormat::Q8: return kQuantScaleBytes + kQuantTileRows * kQuantGroup;
    case WeightFormat::Q4: return kQuantScaleBytes + kQuantTileRows * kQuantGroup / 2;
    default: throw Error(std::string("quant_block_bytes: not a quantized format: ") + weight_format_name(fmt));
  }
}

int64_t quant_tiles(int64_t rows) { return (rows + kQuantTileRows - 1) / kQuantTileRows; }
int64_t quant_groups(int64_t cols) { return (cols + kQuantGroup - 1) / kQuantGroup; }

size_t quantized_weight_bytes(WeightFormat fmt, int64_t rows, int64_t cols) {
  return static_cast<size_t>(quant_tiles(rows)) * static_cast<size_t>(quant_groups(cols)) *
         quant_block_bytes(fmt);
}

WeightMatrix quantize_weight(const WeightMatrix& src, WeightFormat fmt, int group_size) {
  check(is_quantized(fmt), std::string("quantize_weight: target format must be q8 or q4, got ") +
                               weight_format_name(fmt));
  check(!is_quantized(src.format), std::string("quantize_weight: source is already ") +
                                       weight_format_name(src.format));
  check(group_size == kQuantGroup, "quantize_weight: only group_size 32 is supported, got " +
                                       std::to_string(group_size));
  check(src.rows > 0 && src.cols > 0, "quantize_weight: empty matrix");
  const int64_t tiles = quant_tiles(src.rows), groups = quant_groups(src.cols);
  const size_t block_bytes = quant_block_bytes(fmt);
  auto storage = std::make_shared<std::vector<uint8_t>>(quantized_weight_bytes(fmt, src.rows, src.cols), 0);
  const int qmax = max_level(fmt);
  const int offset = fmt == WeightFormat::Q8 ? 128 : 8;

  std::vector<float> row(static_cast<size_t>(groups * kQuantGroup), 0.0f);
  for (int64_t n = 0; n < src.rows; ++n) {
    weight_row_to_f32(src, n, row.data());
    const int64_t tile = n / kQuantTileRows;
    const int r = static_cast<int>(n % kQuantTileRows);
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* block = storage->data() + (static_cast<size_t>(tile) * groups + g) * block_bytes;
      const float* v = row.data() + g * kQuantGroup;
      float amax = 0.0f;
      bool finite = true;
      for (int j = 0; j < kQuantGroup; ++j) {
        finite = finite && std::isfinite(v[j]);
        amax = std::max(amax, std::fabs(v[j]));
      }
      check(finite, "quantize_weight: row " + std::to_string(n) + " has a non-finite value");
      // Quantize with the scale as stored (f16-rounded) so q·d is what the
      // kernels compute.
      const uint16_t d16 = f32_to_f16(amax / static_cast<float>(qmax));
      const float d = f16_to_f32(d16);
      check(std::isfinite(d), "quantize_weight: row " + std::to_string(n) +
                                  " has values too large for an f16 scale");
      std::memcpy(block + 2 * r, &d16, 2);
      const float inv = d > 0.0f ? 1.0f / d : 0.0f;
      for (int j = 0; j < kQuantGroup; ++j) {
        const int q = std::clamp(static_cast<int>(std::nearbyint(v[j] * inv)), -qmax, qmax);
        bool high;
        uint8_t& byte = block[weight_byte(fmt, r, j, &high)];
        const uint8_t stored = static_cast<uint8_t>(q + offset);
        if (fmt == WeightFormat::Q8) byte = stored;
        else byte = high ? static_cast<uint8_t>((byte & 0x0f) | (stored << 4))
                         : static_cast<uint8_t>((byte & 0xf0) | stored);
      }
    }
    // Zero-padded columns of the last group already hold 0 in `row`.
  }
  // Padding rows of the last tile: scale 0 and the encoding of q = 0.
  for (int64_t n = src.rows; n < tiles * kQuantTileRows; ++n) {
    const int r = static_cast<int>(n % kQuantTileRows);
    for (int64_t g = 0; g < groups; ++g) {
      uint8_t* block = storage->data() + (static_cast<size_t>(tiles - 1) * groups + g) * block_bytes;
      for (int j = 0; j < kQuantGroup; ++j) {
        bool high;
        uint8_t& byte = block[weight_byte(fmt, r, j, &high)];
        if (fmt == WeightFormat::Q8) byte = 128;
        else byte = high ? static_cast<uint8_t>((byte & 0x0f) | 0x80) : static_cast<uint8_t>((byte & 0xf0) | 8);
      }
    }
  }
  return quantized_weight_over(fmt, src.rows, src.cols, std::move(storage));
}

WeightMatrix quantized_weight_over(WeightFormat fmt, int64_t rows, int64_t cols,
                                   std::shared_ptr<std::vector<uint8_t>> storage) {
  check(storage && storage->size() == quantized_weight_bytes(fmt, rows, cols),
        "quantized_weight_over: storage does not match the layout");
  WeightMatrix w;
  w.format = fmt;
  w.rows = rows;
  w.cols = cols;
  w.group_size = kQuantGroup;
  w.data = storage->data();
  w.owner = std::move(storage);
  return w;
}

void dequantize_row(const WeightMatrix& w, int64_t row, float* out) {
  check(is_quantized(w.format), "dequantize_row: not a quantized matrix");
  check(row >= 0 && row < w.rows, "dequantize_row: row out of range");
  const int64_t tile = row / kQuantTileRows;
  const int r = static_cast<int>(row % kQuantTileRows);
  int8_t q[kQuantTileRows][kQuantGroup];
  for (int64_t g = 0; g < quant_groups(w.cols); ++g) {
    const uint8_t* block = block_at(w, tile, g);
    decode_block(w.format, block, q);
    const float d = block_scale(block, r);
    for (int j = 0; j < kQuantGroup && g * kQuantGroup + j < w.cols; ++j) out[g * kQuantGroup + j] = q[r][j] * d;
  }
}

void quantize_activations(const float* x, int64_t m, int64_t cols, QuantizedActivations& out,
                          ThreadPool* pool) {
  const int64_t blocks = quant_groups(cols);
  out.m = m;
  out.blocks = blocks;
  out.values.resize(static_cast<size_t>(m * blocks * kQuantGroup));
  out.scales.resize(static_cast<size_t>(m * blocks));
  out.sums.resize(static_cast<size_t>(m * blocks));
  const kernels::MatmulKernels* simd = kernels::matmul_kernels_for(active_isa_level());
  auto quantize_rows = [&](int64_t i0, int64_t i1) {
    if (simd) {
      simd->quantize_activation_rows(x, cols, i0, i1, out);
      return;
    }
    for (int64_t i = i0; i < i1; ++i) {
      const float* xi = x + i * cols;
      int8_t* q = out.values.data() + i * blocks * kQuantGroup;
      for (int64_t b = 0; b < blocks; ++b) {
        const int64_t k0 = b * kQuantGroup;
        const int n = static_cast<int>(std::min<int64_t>(kQuantGroup, cols - k0));
        float amax = 0.0f;
        for (int j = 0; j < n; ++j) amax = std::max(amax, std::fabs(xi[k0 + j]));
        const float s = amax / 127.0f;
        const float inv = s > 0.0f ? 127.0f / amax : 0.0f;
        int32_t sum = 0;
        for (int j = 0; j < kQuantGroup; ++j) {
          int v = 0;
          if (j < n) v = std::clamp(static_cast<int>(std::nearbyint(xi[k0 + j] * inv)), -127, 127);
          q[k0 + j] = static_cast<int8_t>(v);
          sum += v;
        }
        out.scales[i * blocks + b] = s;
        out.sums[i * blocks + b] = sum;
      }
    }
  };
  if (pool && m >= 8) pool->parallel_for(m, 4, quantize_rows);
  else quantize_rows(0, m);
}

void quantized_matmul_tiles_scalar(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0,
                                   int64_t tile1, float* y) {
  const int64_t groups = quant_groups(w.cols);
  int8_t q[kQuantTileRows][kQuantGroup];
  for (int64_t t = tile0; t < tile1; ++t) {
    const int rows_here = static_cast<int>(std::min<int64_t>(kQuantTileRows, w.rows - t * kQuantTileRows));
    for (int64_t i = 0; i < a.m; ++i) {
      float acc[kQuantTileRows] = {};
      const int8_t* xq = a.row_values(i);
      for (int64_t g = 0; g < groups; ++g) {
        const uint8_t* block = block_at(w, t, g);
        decode_block(w.format, block, q);
        const float s = a.row_scales(i)[g];
        for (int r = 0; r < rows_here; ++r) {
          int32_t dot = 0;
          for (int j = 0; j < kQuantGroup; ++j) dot += q[r][j] * xq[g * kQuantGroup + j];
          acc[r] = std::fma(static_cast<float>(dot), block_scale(block, r) * s, acc[r]);
        }
      }
      for (int r = 0; r < rows_here; ++r) y[i * w.rows + t * kQuantTileRows + r] = acc[r];
    }
  }
}

void quantized_matmul_reference(const float* x, int64_t m, const WeightMatrix& w, const float* bias,
                                float* y) {
  QuantizedActivations a;
  quantize_activations(x, m, w.cols, a, nullptr);
  quantized_matmul_tiles_scalar(a, w, 0, quant_tiles(w.rows), y);
  if (bias)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t n = 0; n < w.rows; ++n) y[i * w.rows + n] += bias[n];
}

}  // namespace qwen3vl
