#include "qwen3vl/export/onnx/matmul_nbits.h"

#include <algorithm>
#include <cmath>

#include "qwen3vl/base/error.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl::onnx_export {

NBitsMatrix quantize_nbits(const float* w, int64_t n, int64_t k, int64_t block_size, int bits) {
  check(block_size >= 16 && (block_size & (block_size - 1)) == 0,
        "MatMulNBits export: block size " + std::to_string(block_size) + " must be a power of two >= 16");
  check(bits == 4 || bits == 8, "MatMulNBits export: bits must be 4 or 8");
  NBitsMatrix m;
  m.n = n;
  m.k = k;
  m.block_size = block_size;
  m.bits = bits;
  const int qmax = bits == 4 ? 7 : 127, zero = 1 << (bits - 1);
  const int64_t blocks = m.blocks(), bytes = m.block_bytes();
  m.packed.assign(static_cast<size_t>(n * blocks * bytes), 0);
  m.scales.assign(static_cast<size_t>(n * blocks), 0.0f);
  for (int64_t r = 0; r < n; ++r) {
    const float* row = w + r * k;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t k0 = b * block_size, k1 = std::min(k, k0 + block_size);
      float amax = 0.0f;
      for (int64_t i = k0; i < k1; ++i) amax = std::max(amax, std::fabs(row[i]));
      // Rounded to float16 as our own formats store it.
      const float scale = f16_to_f32(f32_to_f16(amax / static_cast<float>(qmax)));
      const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
      m.scales[r * blocks + b] = scale;
      uint8_t* out = &m.packed[(r * blocks + b) * bytes];
      for (int64_t i = 0; i < block_size; ++i) {
        const float v = k0 + i < k1 ? row[k0 + i] : 0.0f;
        const int q = std::clamp(static_cast<int>(std::nearbyint(v * inv)), -qmax, qmax) + zero;
        if (bits == 8) {
          out[i] = static_cast<uint8_t>(q);
        } else {
          out[i / 2] |= static_cast<uint8_t>(i % 2 == 0 ? q : q << 4);
        }
      }
    }
  }
  return m;
}

std::vector<float> dequantize_nbits(const NBitsMatrix& m) {
  std::vector<float> w(static_cast<size_t>(m.n * m.k));
  const int64_t blocks = m.blocks(), bytes = m.block_bytes();
  const int zero = 1 << (m.bits - 1);
  for (int64_t r = 0; r < m.n; ++r)
    for (int64_t i = 0; i < m.k; ++i) {
      const int64_t b = i / m.block_size, j = i % m.block_size;
      const uint8_t* blk = &m.packed[(r * blocks + b) * bytes];
      const int q = m.bits == 8 ? blk[j] : j % 2 == 0 ? (blk[j / 2] & 0x0f) : (blk[j / 2] >> 4);
      w[r * m.k + i] = static_cast<float>(q - zero) * m.scales[r * blocks + b];
    }
  return w;
}

std::string matmul_nbits(GraphBuilder& g, const std::string& x, const std::string& name, const NBitsMatrix& m) {
  const int64_t blocks = m.blocks();
  const std::string b = g.initializer(name + ".q" + std::to_string(m.bits), Elem::U8, {m.n, blocks, m.block_bytes()},
                                      m.packed.data(), m.packed.size());
  const std::string s = g.initializer(name + ".scales", Elem::F32, {m.n * blocks}, m.scales.data(),
                                      m.scales.size() * 4);
  // accuracy_level 4: activations are quantized to int8 per block, as our own
  // q4/q8 kernels do (and ONNX Runtime's fast CPU path).
  return g.op("MatMulNBits", {x, b, s},
              {attr("K", m.k), attr("N", m.n), attr("bits", int64_t(m.bits)), attr("block_size", m.block_size),
               attr("accuracy_level", int64_t(4))},
              "com.microsoft");
}

}  // namespace qwen3vl::onnx_export
