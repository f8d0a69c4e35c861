#include "qwen3vl/image/bicubic_resize.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/thread_pool.h"

namespace qwen3vl {

namespace {

constexpr int kPrecisionBits = 22;  // 32 bits - 8 for the value - 2 for overshoot

double cubic_kernel(double x) {
  constexpr double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

// For every output position along one axis: the first source index and the
// fixed-point weights of the source pixels it reads (`taps` per position,
// zero-padded past `count`).
struct AxisFilter {
  int taps = 0;
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // out_size * taps
};

AxisFilter make_axis_filter(int in_size, int out_size) {
  constexpr double kSupport = 2.0;
  const double scale = static_cast<double>(in_size) / out_size;
  const double filter_scale = std::max(scale, 1.0);
  const double support = kSupport * filter_scale;
  AxisFilter f;
  f.taps = static_cast<int>(std::ceil(support)) * 2 + 1;
  f.first.resize(out_size);
  f.count.resize(out_size);
  f.weights.assign(static_cast<size_t>(out_size) * f.taps, 0);
  std::vector<double> w(f.taps);
  // Pillow multiplies by the reciprocal rather than dividing; so do we, for
  // bit-identical kernel arguments.
  const double inverse_filter_scale = 1.0 / filter_scale;
  for (int i = 0; i < out_size; ++i) {
    const double center = (i + 0.5) * scale;
    // Truncation toward zero as in Pillow's (int)(v + 0.5) "rounding".
    const int lo = std::max(static_cast<int>(center - support + 0.5), 0);
    const int hi = std::min(static_cast<int>(center + support + 0.5), in_size);
    const int n = hi - lo;
    double sum = 0.0;
    for (int k = 0; k < n; ++k) {
      w[k] = cubic_kernel((k + lo - center + 0.5) * inverse_filter_scale);
      sum += w[k];
    }
    int32_t* out = &f.weights[static_cast<size_t>(i) * f.taps];
    for (int k = 0; k < n; ++k) {
      const double normalised = sum != 0.0 ? w[k] / sum : w[k];
      const double fixed = normalised * (1 << kPrecisionBits);
      out[k] = static_cast<int32_t>(normalised < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    f.first[i] = lo;
    f.count[i] = n;
  }
  return f;
}

inline uint8_t clip_fixed(int32_t accumulator) {
  const int32_t v = accumulator >> kPrecisionBits;  // arithmetic shift: floor
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal pass over source rows [row_begin, row_end) into `out` rows 0...
void resample_rows(const RgbImage& in, int row_begin, int row_end, const AxisFilter& f, RgbImage& out,
                   ThreadPool& pool) {
  pool.parallel_for(row_end - row_begin, 16, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const uint8_t* src = in.row(static_cast<int>(row_begin + r));
      uint8_t* dst = out.row(static_cast<int>(r));
      for (int x = 0; x < out.width; ++x) {
        const int32_t* w = &f.weights[static_cast<size_t>(x) * f.taps];
        const uint8_t* p = src + 3 * f.first[x];
        int32_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
        for (int k = 0; k < f.count[x]; ++k) {
          s0 += p[3 * k + 0] * w[k];
          s1 += p[3 * k + 1] * w[k];
          s2 += p[3 * k + 2] * w[k];
        }
        dst[3 * x + 0] = clip_fixed(s0);
        dst[3 * x + 1] = clip_fixed(s1);
        dst[3 * x + 2] = clip_fixed(s2);
      }
    }
  });
}

// Vertical pass; `row_offset` is the source row stored at in.row(0).
void resample_columns(const RgbImage& in, int row_offset, const AxisFilter& f, RgbImage& out, ThreadPool& pool) {
  const int values_per_row = in.width * 3;
  pool.parallel_for(out.height, 4, [&](int64_t begin, int64_t end) {
    std::vector<int32_t> acc(values_per_row);
    for (int64_t y = begin; y < end; ++y) {
      const int32_t* w = &f.weights[static_cast<size_t>(y) * f.taps];
      std::fill(acc.begin(), acc.end(), 1 << (kPrecisionBits - 1));
      // Row-at-a-time accumulation keeps the inner loop contiguous (vectorisable);
      // integer addition makes the order irrelevant to the result.
      for (int k = 0; k < f.count[y]; ++k) {
        const uint8_t* src = in.row(f.first[y] - row_offset + k);
        const int32_t wk = w[k];
        for (int i = 0; i < values_per_row; ++i) acc[i] += src[i] * wk;
      }
      uint8_t* dst = out.row(static_cast<int>(y));
      for (int i = 0; i < values_per_row; ++i) dst[i] = clip_fixed(acc[i]);
    }
  });
}

}  // namespace

RgbImage resize_bicubic(const RgbImage& source, int out_width, int out_height, ThreadPool& pool) {
  if (source.width <= 0 || source.height <= 0) throw Error("resize_bicubic: empty source image");
  if (out_width <= 0 || out_height <= 0)
    throw Error("resize_bicubic: invalid output size " + std::to_string(out_width) + "x" +
                std::to_string(out_height));
  const bool horizontal = out_width != source.width;
  const bool vertical = out_height != source.height;
  if (!horizontal && !vertical) return source;

  const AxisFilter rows_filter = make_axis_filter(source.height, out_height);
  if (!horizontal) {
    RgbImage out(out_width, out_height);
    resample_columns(source, 0, rows_filter, out, pool);
    return out;
  }
  // Only the source rows the vertical pass will read need the horizontal pass.
  const int first_row = vertical ? rows_filter.first.front() : 0;
  const int last_row = vertical ? rows_filter.first.back() + rows_filter.count.back() : source.height;
  const AxisFilter columns_filter = make_axis_filter(source.width, out_width);
  RgbImage wide(out_width, last_row - first_row);
  resample_rows(source, first_row, last_row, columns_filter, wide, pool);
  if (!vertical) return wide;
  RgbImage out(out_width, out_height);
  resample_columns(wide, first_row, rows_filter, out, pool);
  return out;
}

}  // namespace qwen3vl
