// Internal: the matmul kernels written once over the vector width. V is one
// of the operation sets of simd_avx2.h / simd_avx512.h; matmul_avx2.cpp and
// matmul_avx512.cpp instantiate these templates for their ISA (this header
// itself holds no ISA-specific code, so include it only from those files,
// after the simd header).
//
//  Float weights (F32/BF16/F16): a GEMM that packs panels of two vectors'
//  width of weight rows (widened and transposed once) and keeps a 6-row tile
//  of Y in registers, and a decode GEMV that streams weight rows with two
//  accumulator chains per row. Exact float32 products and accumulation.
//  Q8/Q4 weights: one tile body (M activation rows × NV vectors of weight
//  rows) serves the prefill GEMM and the decode GEMV; integer dots are exact
//  and the float operations are those of quantized_matmul_tiles_scalar, so
//  every width agrees with it bit for bit.
//  Activations: per-32 int8 quantization, the same operations as the
//  scalar loop of quantize_activations.
#pragma once
#include <algorithm>
#include <cstdint>
#include <type_traits>
#include <utility>
#include <vector>

#include "qwen3vl/kernels/compile_time_count.h"
#include "qwen3vl/kernels/matmul_kernels.h"
#include "qwen3vl/kernels/quant.h"

namespace qwen3vl::kernels::simd {

// ---------------------------------------------------------------- float path

template <WeightFormat Fmt>
constexpr int64_t element_bytes() {
  return Fmt == WeightFormat::F32 ? 4 : 2;
}

template <WeightFormat Fmt>
inline const void* weight_row(const WeightMatrix& w, int64_t n) {
  return static_cast<const char*>(w.data) + n * w.cols * element_bytes<Fmt>();
}

// kLanes weights of a row from column k, widened to float32 (exact).
template <class V, WeightFormat Fmt>
inline typename V::F load_weights(const void* row, int64_t k) {
  if constexpr (Fmt == WeightFormat::F32) return V::load(static_cast<const float*>(row) + k);
  else if constexpr (Fmt == WeightFormat::BF16) return V::load_bf16(static_cast<const uint16_t*>(row) + k);
  else return V::load_f16(static_cast<const uint16_t*>(row) + k);
}

// The first n of them (the rest read as 0, never touched in memory).
template <class V, WeightFormat Fmt>
inline typename V::F load_weights_first(const void* row, int64_t k, int64_t n) {
  if constexpr (Fmt == WeightFormat::F32) return V::load_first(static_cast<const float*>(row) + k, n);
  else if constexpr (Fmt == WeightFormat::BF16) return V::load_bf16_first(static_cast<const uint16_t*>(row) + k, n);
  else return V::load_f16_first(static_cast<const uint16_t*>(row) + k, n);
}

// Decode GEMV: R rows at once, two accumulators per row (2·kLanes inputs per
// step) so each FMA chain is half as long; the next stretch of every row is
// prefetched (decode streams the weights once per token from memory).
template <class V, WeightFormat Fmt, int R>
inline void gemv_rows(const float* x, const WeightMatrix& w, int64_t n, float* y) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int64_t kAhead = 512;  // bytes ahead of the current position of each row
  const int64_t K = w.cols;
  const char* rows[R];
  F a0[R], a1[R];
  for (int r = 0; r < R; ++r) {
    rows[r] = static_cast<const char*>(weight_row<Fmt>(w, n + r));
    a0[r] = a1[r] = V::zero();
  }
  int64_t k = 0;
  for (; k + 2 * L <= K; k += 2 * L) {
    const F x0 = V::load(x + k), x1 = V::load(x + k + L);
    for (int r = 0; r < R; ++r) {
      V::prefetch(rows[r] + k * element_bytes<Fmt>() + kAhead);
      a0[r] = V::fmadd(load_weights<V, Fmt>(rows[r], k), x0, a0[r]);
      a1[r] = V::fmadd(load_weights<V, Fmt>(rows[r], k + L), x1, a1[r]);
    }
  }
  for (; k < K; k += L) {
    const F xv = V::load_first(x + k, K - k);
    for (int r = 0; r < R; ++r) a0[r] = V::fmadd(load_weights_first<V, Fmt>(rows[r], k, K - k), xv, a0[r]);
  }
  for (int r = 0; r < R; ++r) y[n + r] = V::reduce_add(V::add(a0[r], a1[r]));
}

template <class V, WeightFormat Fmt>
void float_gemv(const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) gemv_rows<V, Fmt, 4>(x, w, n, y);
  for (; n < n1; ++n) gemv_rows<V, Fmt, 1>(x, w, n, y);
}

// GEMM: panels of kPanel = 2·kLanes weight rows are widened and transposed
// once into panel[k][kPanel] (all of K); then a kRowsX × kPanel tile of Y
// lives in 2·kRowsX registers while k runs: per k, two weight vectors and
// kRowsX broadcasts of x feed 2·kRowsX FMAs.
template <class V>
struct FloatGemm {
  static constexpr int kPanel = 2 * V::kLanes;
  static constexpr int kRowsX = 6;  // 12 accumulators + 2 weights + 1 broadcast: fits 16 registers
  static_assert(kFloatPanelRows % kPanel == 0, "thread slices must be whole panels");
};

// panel[k * kPanel + j] = W[n + j][k] as float; rows past `valid` are zero.
template <class V, WeightFormat Fmt>
void pack_panel(const WeightMatrix& w, int64_t n, int valid, float* panel) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int kPanel = FloatGemm<V>::kPanel;
  const int64_t K = w.cols;
  F block[L];
  for (int half = 0; half < kPanel; half += L) {
    for (int64_t k0 = 0; k0 < K; k0 += L) {
      const int64_t width = std::min<int64_t>(L, K - k0);
      for (int j = 0; j < L; ++j) {
        const int row = half + j;
        if (row >= valid) block[j] = V::zero();
        else if (width == L) block[j] = load_weights<V, Fmt>(weight_row<Fmt>(w, n + row), k0);
        else block[j] = load_weights_first<V, Fmt>(weight_row<Fmt>(w, n + row), k0, width);
      }
      V::transpose(block);
      for (int64_t kk = 0; kk < width; ++kk) V::store(panel + (k0 + kk) * kPanel + half, block[kk]);
    }
  }
}

template <class V, int M>
void gemm_tile(const float* x, int64_t K, const float* panel, float* y, int64_t ldy, int valid) {
  using F = typename V::F;
  constexpr int L = V::kLanes;
  constexpr int kPanel = FloatGemm<V>::kPanel;
  F lo[M], hi[M];
  for (int i = 0; i < M; ++i) lo[i] = hi[i] = V::zero();
  for (int64_t k = 0; k < K; ++k) {
    const F w0 = V::load(panel + k * kPanel);
    const F w1 = V::load(panel + k * kPanel + L);
    for (int i = 0; i < M; ++i) {
      const F xb = V::set1(x[i * K + k]);
      lo[i] = V::fmadd(w0, xb, lo[i]);
      hi[i] = V::fmadd(w1, xb, hi[i]);
    }
  }
  for (int i = 0; i < M; ++i) {
    V::store_first(y + i * ldy, lo[i], valid);
    V::store_first(y + i * ldy + L, hi[i], valid - L);
  }
}

template <class V, WeightFormat Fmt>
void float_gemm(const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
  constexpr int kPanel = FloatGemm<V>::kPanel;
  constexpr int kRowsX = FloatGemm<V>::kRowsX;
  const int64_t K = w.cols;
  thread_local std::vector<float> panel;
  panel.resize(static_cast<size_t>(K * kPanel));
  for (int64_t n = n0; n < n1; n += kPanel) {
    const int valid = static_cast<int>(std::min<int64_t>(kPanel, n1 - n));
    pack_panel<V, Fmt>(w, n, valid, panel.data());
    int64_t i = 0;
    for (; i + kRowsX <= m; i += kRowsX)
      gemm_tile<V, kRowsX>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid);
    with_count<kRowsX - 1>(static_cast<int>(m - i), [&](auto rows) {
      gemm_tile<V, rows()>(x + i * K, K, panel.data(), y + i * w.rows + n, w.rows, valid);
    });
  }
}

// Calls fn.template operator()<Fmt>() for a float weight's format.
template <class Fn>
inline void with_float_format(WeightFormat f, Fn&& fn) {
  switch (f) {
    case WeightFormat::F32: fn(std::integral_constant<WeightFormat, WeightFormat::F32>{}); return;
    case WeightFormat::BF16: fn(std::integral_constant<WeightFormat, WeightFormat::BF16>{}); return;
    case WeightFormat::F16: fn(std::integral_constant<WeightFormat, WeightFormat::F16>{}); return;
    default: return;
  }
}

// ------------------------------------------------------------ quantized path

// How a weight tile's 16 rows map onto vectors: row vector rv covers rows
// [rv·kLanes, rv·kLanes + kLanes), i.e. tile rv·kLanes / 16, and within each
// 64-byte chunk of that tile's blocks the 4·kLanes bytes at `sub_bytes`.
template <class V>
struct RowVector {
  static constexpr int kPerTile = kQuantTileRows / V::kLanes;
  int64_t tile;
  int sub;  // which part of the tile
  explicit RowVector(int64_t rv) : tile(rv / kPerTile), sub(static_cast<int>(rv % kPerTile)) {}
  int chunk_offset() const { return sub * 4 * V::kLanes; }
  int scale_offset() const { return sub * 2 * V::kLanes; }
};

// How many blocks ahead of the current one the decode GEMV prefetches.
constexpr int64_t kBlocksAhead = 6;

// Q4 weights of NV row vectors unpacked for the prefill GEMM, which runs
// many activation rows over the same weights: each nibble half of a stored
// chunk is split out once per block of activation rows instead of once per
// tile of them. Per group and row vector: 8 chunks of 4·kLanes unsigned
// bytes (chunk c < 4: the low nibbles of stored chunk c, inputs 8c..8c+3;
// c >= 4: the high nibbles of stored chunk c - 4, inputs 8(c-4)+4..+7),
// then the kLanes row scales as float.
template <class V>
struct UnpackedQ4 {
  static constexpr int64_t kChunkBytes = 4 * V::kLanes;
  static constexpr int64_t kEntryBytes = 8 * kChunkBytes + 4 * V::kLanes;  // chunks + float scales
  // Input offset (within the group) of chunk c's first input.
  static constexpr int input_of(int c) { return c < 4 ? 8 * c : 8 * (c - 4) + 4; }
};

// Unpacks row vectors [rv0, rv0 + nv) of w (Q4) for every group into `out`
// ([group][nv] entries of UnpackedQ4<V>::kEntryBytes, 64-byte aligned).
template <class V>
void unpack_q4(const WeightMatrix& w, int64_t rv0, int nv, uint8_t* out) {
  using U = UnpackedQ4<V>;
  const int64_t groups = quant_groups(w.cols);
  const size_t block_bytes = quant_block_bytes(WeightFormat::Q4);
  const uint8_t* const data = static_cast<const uint8_t*>(w.data);
  for (int v = 0; v < nv; ++v) {
    const RowVector<V> r(rv0 + v);
    const uint8_t* blk = data + static_cast<size_t>(r.tile) * groups * block_bytes;
    uint8_t* entry = out + v * U::kEntryBytes;
    for (int64_t g = 0; g < groups; ++g, blk += block_bytes, entry += nv * U::kEntryBytes) {
      for (int c = 0; c < 4; ++c) {
        const typename V::I raw = V::load_bytes(blk + kQuantScaleBytes + 64 * c + r.chunk_offset());
        V::store_bytes(entry + c * U::kChunkBytes, V::low_nibbles(raw));
        V::store_bytes(entry + (c + 4) * U::kChunkBytes, V::high_nibbles(raw));
      }
      V::store(reinterpret_cast<float*>(entry + 8 * U::kChunkBytes), V::load_f16_scales(blk + r.scale_offset()));
    }
  }
}

// An M × (NV·kLanes) tile of Y: activation rows [i0, i0 + M) against row
// vectors [rv0, rv0 + NV). Per group of 32 inputs: integer dots of the
// int8 activations with the stored weights (V::QuantDot; one vector
// multiplies 4 inputs for kLanes rows, so the row sums land in lanes and
// need no reduction), then one float FMA per row with the product of the two
// scales. With few accumulators (M·NV <= 2, the decode GEMV) each dot runs
// in two independent chains to hide the instruction latency. `Prefetch`
// asks for the blocks kBlocksAhead ahead (decode streams from memory).
// `Unpacked` (Q4 only): the row vectors' weights are read from `unpacked`
// as unpack_q4 left them instead of from the stored blocks (same integers,
// same scales, so the same results).
template <class V, WeightFormat Fmt, int M, int NV, bool Prefetch, bool Unpacked = false>
void quant_tile(const QuantizedActivations& a, int64_t i0, const WeightMatrix& w, int64_t rv0, float* y,
                const uint8_t* unpacked = nullptr) {
  using F = typename V::F;
  using I = typename V::I;
  using Q = typename V::template QuantDot<Fmt>;
  using Acc = typename Q::Acc;
  using U = UnpackedQ4<V>;
  constexpr int L = V::kLanes;
  constexpr int C = M * NV <= 2 ? 2 : 1;  // chains per accumulator
  const int64_t groups = quant_groups(w.cols);
  const size_t block_bytes = quant_block_bytes(Fmt);
  const uint8_t* const data = static_cast<const uint8_t*>(w.data);
  const uint8_t* end = nullptr;
  if constexpr (Prefetch) end = data + quantized_weight_bytes(Fmt, w.rows, w.cols);
  const uint8_t* base[NV];
  int chunk_off[NV], scale_off[NV];
  for (int v = 0; v < NV; ++v) {
    const RowVector<V> r(rv0 + v);
    base[v] = data + static_cast<size_t>(r.tile) * groups * block_bytes;
    chunk_off[v] = kQuantScaleBytes + r.chunk_offset();
    scale_off[v] = r.scale_offset();
  }
  const int8_t* xq[M];
  const float* xs[M];
  const int32_t* xsum[M];
  F facc[M][NV];
  for (int i = 0; i < M; ++i) {
    xq[i] = a.row_values(i0 + i);
    xs[i] = a.row_scales(i0 + i);
    xsum[i] = a.row_sums(i0 + i);
    for (int v = 0; v < NV; ++v) facc[i][v] = V::zero();
  }
  for (int64_t g = 0; g < groups; ++g) {
    const uint8_t* blk[NV];
    for (int v = 0; v < NV; ++v) blk[v] = base[v] + g * block_bytes;
    if constexpr (Prefetch) {
      for (int v = 0; v < NV; ++v) {
        if (RowVector<V>(rv0 + v).sub != 0) continue;  // one stream per tile
        const uint8_t* ahead = blk[v] + kBlocksAhead * block_bytes;
        if (ahead + block_bytes <= end)
          for (size_t off = 0; off < block_bytes; off += 64) V::prefetch(ahead + off);
      }
    }
    Acc acc[M][NV][C];
    for (int i = 0; i < M; ++i)
      for (int v = 0; v < NV; ++v) {
        acc[i][v][0] = Q::start(xsum[i][g]);
        if constexpr (C == 2) acc[i][v][1] = Q::zero();
      }
    const int8_t* xg[M];
    for (int i = 0; i < M; ++i) xg[i] = xq[i] + g * kQuantGroup;
    F sw[NV];
    if constexpr (Fmt == WeightFormat::Q8) {
      // Chunk c: inputs 4c .. 4c+3.
      for (int c = 0; c < 8; ++c) {
        typename Q::W wv[NV];
        for (int v = 0; v < NV; ++v) wv[v] = Q::prepare(V::load_bytes(blk[v] + chunk_off[v] + 64 * c));
        for (int i = 0; i < M; ++i) {
          const I xb = V::broadcast4(xg[i] + 4 * c);
          for (int v = 0; v < NV; ++v) acc[i][v][c % C] = Q::dot(acc[i][v][c % C], wv[v], xb);
        }
      }
      for (int v = 0; v < NV; ++v) sw[v] = V::load_f16_scales(blk[v] + scale_off[v]);
    } else {
      if constexpr (Unpacked) {
        const uint8_t* entry = unpacked + g * NV * U::kEntryBytes;
        for (int c = 0; c < 8; ++c) {
          typename Q::W wv[NV];
          for (int v = 0; v < NV; ++v) wv[v] = Q::prepare(V::load_bytes(entry + v * U::kEntryBytes + c * U::kChunkBytes));
          for (int i = 0; i < M; ++i) {
            const I xb = V::broadcast4(xg[i] + U::input_of(c));
            for (int v = 0; v < NV; ++v) acc[i][v][c % C] = Q::dot(acc[i][v][c % C], wv[v], xb);
          }
        }
        for (int v = 0; v < NV; ++v)
          sw[v] = V::load(reinterpret_cast<const float*>(entry + v * U::kEntryBytes + 8 * U::kChunkBytes));
      } else {
        // Chunk c: inputs 8c .. 8c+3 in the low nibbles, 8c+4 .. 8c+7 in the high.
        for (int c = 0; c < 4; ++c) {
          typename Q::W lo[NV], hi[NV];
          for (int v = 0; v < NV; ++v) {
            const I raw = V::load_bytes(blk[v] + chunk_off[v] + 64 * c);
            lo[v] = Q::prepare(V::low_nibbles(raw));
            hi[v] = Q::prepare(V::high_nibbles(raw));
          }
          for (int i = 0; i < M; ++i) {
            const I xlo = V::broadcast4(xg[i] + 8 * c);
            const I xhi = V::broadcast4(xg[i] + 8 * c + 4);
            for (int v = 0; v < NV; ++v) {
              acc[i][v][0] = Q::dot(acc[i][v][0], lo[v], xlo);
              acc[i][v][C - 1] = Q::dot(acc[i][v][C - 1], hi[v], xhi);
            }
          }
        }
        for (int v = 0; v < NV; ++v) sw[v] = V::load_f16_scales(blk[v] + scale_off[v]);
      }
    }
    for (int i = 0; i < M; ++i) {
      const F sx = V::set1(xs[i][g]);
      for (int v = 0; v < NV; ++v) {
        Acc total = acc[i][v][0];
        if constexpr (C == 2) total = Q::merge(total, acc[i][v][1]);
        const I dot = Q::finish(total, xsum[i][g]);
        facc[i][v] = V::fmadd(V::to_float(dot), V::mul(sw[v], sx), facc[i][v]);
      }
    }
  }
  for (int v = 0; v < NV; ++v) {
    const int64_t row0 = (rv0 + v) * L;
    for (int i = 0; i < M; ++i) V::store_first(y + (i0 + i) * w.rows + row0, facc[i][v], w.rows - row0);
  }
}

// Row vectors of tiles [tile0, tile1) that hold real rows (a padded last
// tile may end in vectors of padding only).
template <class V>
inline std::pair<int64_t, int64_t> row_vectors(const WeightMatrix& w, int64_t tile0, int64_t tile1) {
  constexpr int L = V::kLanes;
  const int64_t per_tile = RowVector<V>::kPerTile;
  return {tile0 * per_tile, std::min(tile1 * per_tile, (w.rows + L - 1) / L)};
}

// Tiles [tile0, tile1) for every activation row. Tile shape: V::kQuantRowsX
// activation rows × V::kQuantRowVecs row vectors, so each weight load serves
// several activation rows and each activation broadcast several weight
// vectors. Many activation rows are cut into blocks that stay in L2 while
// the thread's weight tiles pass over them (each weight byte is then read
// once per block from L3, instead of every activation row being read once
// per tile).
template <class V, WeightFormat Fmt>
void quant_gemm(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1, float* y) {
  constexpr int kRowsX = V::kQuantRowsX, kVecs = V::kQuantRowVecs;
  // 64 rows × K <= 4096 int8 values: <= 256 KB of activations, L2-resident
  // (measured on the 4B shapes at AVX-512: 64 was as good as or better than
  // 32, 256 KB worth of rows, or no blocking).
  constexpr int64_t kBlockRows = 64;
  const auto [rv_begin, rv_end] = row_vectors<V>(w, tile0, tile1);
  // Q4 with more than one tile of activation rows: unpack the nibbles once
  // per block (this thread's buffer, reused across calls).
  constexpr bool kUnpack = Fmt == WeightFormat::Q4 && V::kUnpackQ4;
  const bool unpack = kUnpack && a.m > kRowsX;
  thread_local std::vector<uint8_t> unpack_storage;
  uint8_t* unpacked = nullptr;
  if (unpack) {
    const size_t bytes = static_cast<size_t>(quant_groups(w.cols) * kVecs * UnpackedQ4<V>::kEntryBytes);
    if (unpack_storage.size() < bytes + 64) unpack_storage.resize(bytes + 64);
    unpacked = unpack_storage.data() + (-reinterpret_cast<uintptr_t>(unpack_storage.data()) & 63);
  }
  for (int64_t r0 = 0; r0 < a.m; r0 += kBlockRows) {
    const int64_t r1 = std::min(a.m, r0 + kBlockRows);
    for (int64_t rv = rv_begin; rv < rv_end; rv += kVecs) {
      auto rows_of = [&](auto vecs) {
        if (unpack) unpack_q4<V>(w, rv, vecs(), unpacked);
        auto tiles = [&](auto unpacked_tiles) {
          constexpr bool U = unpacked_tiles();
          int64_t i = r0;
          for (; i + kRowsX <= r1; i += kRowsX) quant_tile<V, Fmt, kRowsX, vecs(), false, U>(a, i, w, rv, y, unpacked);
          with_count<kRowsX - 1>(static_cast<int>(r1 - i), [&](auto rows) {
            quant_tile<V, Fmt, rows(), vecs(), false, U>(a, i, w, rv, y, unpacked);
          });
        };
        if constexpr (kUnpack) {
          if (unpack) return tiles(std::true_type{});
        }
        tiles(std::false_type{});
      };
      with_count<kVecs>(static_cast<int>(std::min<int64_t>(kVecs, rv_end - rv)), rows_of);
    }
  }
}

// Decode: activation row 0 against tiles [tile0, tile1), streamed once in
// memory order (a tile's row vectors share its blocks).
template <class V, WeightFormat Fmt>
void quant_gemv(const QuantizedActivations& a, const WeightMatrix& w, int64_t tile0, int64_t tile1, float* y) {
  constexpr int kVecs = RowVector<V>::kPerTile;
  const auto [rv_begin, rv_end] = row_vectors<V>(w, tile0, tile1);
  for (int64_t rv = rv_begin; rv < rv_end; rv += kVecs)
    with_count<kVecs>(static_cast<int>(std::min<int64_t>(kVecs, rv_end - rv)),
                      [&](auto vecs) { quant_tile<V, Fmt, 1, vecs(), true>(a, 0, w, rv, y); });
}

template <class Fn>
inline void with_quant_format(WeightFormat f, Fn&& fn) {
  if (f == WeightFormat::Q8) fn(std::integral_constant<WeightFormat, WeightFormat::Q8>{});
  else fn(std::integral_constant<WeightFormat, WeightFormat::Q4>{});
}

// ---------------------------------------------------- activation quantization

// Rows [i0, i1) of x[., cols] into `out` (already sized): per block of 32,
// s = amax / 127, q = round-half-even(x · 127 / amax) clamped to ±127 — the
// scalar loop's operations (only max and sum run across lanes, both exact).
template <class V>
void quantize_activation_rows(const float* x, int64_t cols, int64_t i0, int64_t i1, QuantizedActivations& out) {
  using F = typename V::F;
  using I = typename V::I;
  constexpr int L = V::kLanes;
  constexpr int kVecs = kQuantGroup / L;
  const int64_t blocks = out.blocks;
  const F lo = V::set1(-127.0f), hi = V::set1(127.0f);
  for (int64_t i = i0; i < i1; ++i) {
    const float* xi = x + i * cols;
    int8_t* q = out.values.data() + i * blocks * kQuantGroup;
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t k0 = b * kQuantGroup;
      const int64_t n = std::min<int64_t>(kQuantGroup, cols - k0);
      F v[kVecs];
      F amax = V::zero();
      for (int j = 0; j < kVecs; ++j) {
        v[j] = n >= kQuantGroup ? V::load(xi + k0 + j * L) : V::load_first(xi + k0 + j * L, n - j * L);
        amax = V::max(amax, V::abs(v[j]));
      }
      const float m = V::reduce_max(amax);
      const float s = m / 127.0f;
      const F inv = V::set1(s > 0.0f ? 127.0f / m : 0.0f);
      I sum = V::to_int_nearest(V::zero());
      for (int j = 0; j < kVecs; ++j) {
        // Clamping before rounding equals clamping after: the bounds are integers.
        const I qv = V::to_int_nearest(V::min(hi, V::max(lo, V::mul(v[j], inv))));
        V::store_i8(q + k0 + j * L, qv);
        sum = V::add_i32(sum, qv);
      }
      out.scales[i * blocks + b] = s;
      out.sums[i * blocks + b] = V::reduce_add_i32(sum);
    }
  }
}

// The kernel table an ISA file exports (see matmul_kernels.h).
template <class V>
MatmulKernels matmul_kernels_for() {
  MatmulKernels k;
  k.name = V::kName;
  k.float_gemm = [](const float* x, int64_t m, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
    with_float_format(w.format, [&](auto f) { float_gemm<V, f()>(x, m, w, n0, n1, y); });
  };
  k.float_gemv = [](const float* x, const WeightMatrix& w, int64_t n0, int64_t n1, float* y) {
    with_float_format(w.format, [&](auto f) { float_gemv<V, f()>(x, w, n0, n1, y); });
  };
  k.quant_gemm = [](const QuantizedActivations& a, const WeightMatrix& w, int64_t t0, int64_t t1, float* y) {
    with_quant_format(w.format, [&](auto f) { quant_gemm<V, f()>(a, w, t0, t1, y); });
  };
  k.quant_gemv = [](const QuantizedActivations& a, const WeightMatrix& w, int64_t t0, int64_t t1, float* y) {
    with_quant_format(w.format, [&](auto f) { quant_gemv<V, f()>(a, w, t0, t1, y); });
  };
  k.quantize_activation_rows = quantize_activation_rows<V>;
  return k;
}

}  // namespace qwen3vl::kernels::simd
