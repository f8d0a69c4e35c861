#include "qwen3vl/export/onnx/matmul_nbits.h"

#include <algorithm>
#include <cmath>

#include "qwen3vl/base/error.h"

namespace qwen3vl::onnx_export {

Int4Matrix quantize_int4(const float* w, int64_t n, int64_t k, int64_t block_size) {
  check(block_size >= 16 && (block_size & (block_size - 1)) == 0,
        "int4 export: block size " + std::to_string(block_size) + " must be a power of two >= 16");
  Int4Matrix m;
  m.n = n;
  m.k = k;
  m.block_size = block_size;
  const int64_t blocks = m.blocks(), half = block_size / 2;
  m.packed.assign(static_cast<size_t>(n * blocks * half), 0);
  m.scales.assign(static_cast<size_t>(n * blocks), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    const float* row = w + r * k;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t k0 = b * block_size, k1 = std::min(k, k0 + block_size);
      float amax = 0.0f;
      for (int64_t i = k0; i < k1; ++i) amax = std::max(amax, std::fabs(row[i]));
      const float scale = amax / 7.0f;
      const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
      m.scales[r * blocks + b] = scale;
      uint8_t* out = &m.packed[(r * blocks + b) * half];
      for (int64_t i = 0; i < block_size; ++i) {
        const float v = k0 + i < k1 ? row[k0 + i] : 0.0f;
        const int q = std::clamp(static_cast<int>(std::nearbyint(v * inv)), -7, 7) + 8;
        out[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? q : q << 4);
      }
    }
  }
  return m;
}

std::vector<float> dequantize_int4(const Int4Matrix& m) {
  std::vector<float> w(static_cast<size_t>(m.n * m.k));
  const int64_t blocks = m.blocks(), half = m.block_size / 2;
  for (int64_t r = 0; r < m.n; ++r)
    for (int64_t i = 0; i < m.k; ++i) {
      const int64_t b = i / m.block_size, j = i % m.block_size;
      const uint8_t byte = m.packed[(r * blocks + b) * half + j / 2];
      const int q = j % 2 == 0 ? (byte & 0x0f) : (byte >> 4);
      w[r * m.k + i] = static_cast<float>(q - 8) * m.scales[r * blocks + b];
    }
  return w;
}

std::string matmul_nbits(GraphBuilder& g, const std::string& x, const std::string& name, const Int4Matrix& m) {
  const int64_t blocks = m.blocks();
  const std::string b = g.initializer(name + ".q4", Elem::U8, {m.n, blocks, m.block_size / 2}, m.packed.data(),
                                      m.packed.size());
  const std::string s = g.initializer(name + ".scales", Elem::F32, {m.n * blocks}, m.scales.data(),
                                      m.scales.size() * 4);
  // accuracy_level 4: activations are quantized to int8 per block, as our own
  // q4 kernels do (and ONNX Runtime's fast CPU path).
  return g.op("MatMulNBits", {x, b, s},
              {attr("K", m.k), attr("N", m.n), attr("bits", int64_t(4)), attr("block_size", m.block_size),
               attr("accuracy_level", int64_t(4))},
              "com.microsoft");
}

}  // namespace qwen3vl::onnx_export
