// How much each 4- and 8-bit weight format loses, per bit stored: the
// reconstruction error of our Q8/Q4 formats (through the library's own
// quantize/dequantize), of improved Q4 variants we could adopt, and of
// llama.cpp's k-quants (Q4_K, Q6_K and the Q4_K_M mix), on synthetic weight
// matrices shaped like real LLM weights: heavy tails, per-row and per-column
// scale spread, outlier input channels and rare spikes. The k-quants are
// written here from their published description (super-blocks of 256 with
// 6-bit sub-block scales and minimums, weighted scale search) for measurement
// only; nothing here is used by the engine.
//
// Errors are reported as signal-to-noise ratios (dB) of the weights and of
// the layer's output for activations whose channel variances are spread
// (log-normal, with a few "massive" channels), and as dB per stored bit
// relative to the ideal 6.02 dB/bit, so formats of different sizes compare
// per byte.
//
// Run: build/bin/quant_error_bench [--rows N] [--markdown]
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "qwen3vl/kernels/quant.h"
#include "qwen3vl/kernels/weight_matrix.h"
#include "qwen3vl/tensor/dtype.h"

namespace {

using namespace qwen3vl;

// ------------------------------------------------------------ test matrices

struct Matrix {
  int64_t rows = 0, cols = 0;
  std::vector<float> w;
};

// Student t with `nu` degrees of freedom, scaled to unit variance.
float student_t(std::mt19937_64& rng, double nu) {
  std::normal_distribution<double> n(0, 1);
  std::chi_squared_distribution<double> chi(nu);
  return static_cast<float>(n(rng) / std::sqrt(chi(rng) / nu) * std::sqrt((nu - 2) / nu));
}

enum class Family { Gaussian, LlmLike, HeavyOutliers };

const char* family_name(Family f) {
  switch (f) {
    case Family::Gaussian: return "gaussian";
    case Family::LlmLike: return "llm-like";
    case Family::HeavyOutliers: return "heavy+outliers";
  }
  return "?";
}

// gaussian: iid N(0, 0.02²). llm-like: Student-t(5) values times a per-row
// (log-normal, sigma 0.15) and per-column (sigma 0.35) scale, 0.3% of input
// columns x5, 1 weight in 50000 x12. heavy+outliers: Student-t(3), column
// sigma 0.6, 1% of columns x8, 1 in 10000 x20.
Matrix make_matrix(Family f, int64_t rows, int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  Matrix m{rows, cols, std::vector<float>(static_cast<size_t>(rows * cols))};
  if (f == Family::Gaussian) {
    std::normal_distribution<float> n(0.0f, 0.02f);
    for (float& v : m.w) v = n(rng);
    return m;
  }
  const bool heavy = f == Family::HeavyOutliers;
  const double nu = heavy ? 3.0 : 5.0, col_sigma = heavy ? 0.6 : 0.35, outlier_cols = heavy ? 0.01 : 0.003;
  const double outlier_gain = heavy ? 8 : 5, spike_rate = heavy ? 1e-4 : 2e-5, spike_gain = heavy ? 20 : 12;
  std::lognormal_distribution<double> row_scale(0, 0.15), col_scale(0, col_sigma);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> rs(rows), cs(cols);
  for (double& r : rs) r = row_scale(rng);
  for (double& c : cs) c = col_scale(rng) * (u(rng) < outlier_cols ? outlier_gain : 1.0);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) {
      double v = 0.02 * rs[r] * cs[c] * student_t(rng, nu);
      if (u(rng) < spike_rate) v *= spike_gain;
      m.w[r * cols + c] = static_cast<float>(v);
    }
  return m;
}

// Per-input-channel activation variances: log-normal (sigma 1) with 0.5% of
// channels 30x larger, the "massive activation" channels of real models.
std::vector<double> activation_variances(int64_t cols, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::lognormal_distribution<double> ln(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> v(cols);
  for (double& x : v) {
    const double s = ln(rng) * (u(rng) < 0.005 ? 30.0 : 1.0);
    x = s * s;
  }
  return v;
}

// ----------------------------------------------------------- the formats

float f16_round(float x) { return f16_to_f32(f32_to_f16(x)); }

// Our formats, through the library: quantize_weight then dequantize_row.
std::vector<float> ours(const Matrix& m, WeightFormat fmt) {
  const WeightMatrix q = quantize_weight(make_f32_weight(m.rows, m.cols, m.w), fmt);
  std::vector<float> out(m.w.size());
  for (int64_t r = 0; r < m.rows; ++r) dequantize_row(q, r, out.data() + r * m.cols);
  return out;
}

// Symmetric block of n values on the levels [-8, 7] · d (16 levels, the
// nibble range our Q4 layout already stores): the d minimising
// Σ imp·(x - d·q)² among amax/L for L in 6.5..8.5 and the signed-max choice
// (x_max / -8), each refined by least squares for its rounding and rounded
// to f16 when `f16_scale`. Returns d; q receives the levels.
float best_symmetric_scale(const float* x, const float* imp, int n, int qmin, int qmax, bool f16_scale, int* q) {
  float amax = 0, signed_max = 0;
  for (int i = 0; i < n; ++i)
    if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), signed_max = x[i];
  if (amax == 0) {
    std::fill(q, q + n, 0);
    return 0;
  }
  float best_d = 0;
  double best_err = 1e300;
  std::vector<int> trial(n);
  auto evaluate = [&](float d) {
    if (f16_scale) d = f16_round(d);
    if (!(d != 0)) return;
    double err = 0, xq = 0, qq = 0;
    for (int i = 0; i < n; ++i) {
      trial[i] = std::clamp(static_cast<int>(std::nearbyint(x[i] / d)), qmin, qmax);
      xq += double(imp[i]) * x[i] * trial[i];
      qq += double(imp[i]) * trial[i] * trial[i];
    }
    // Least-squares scale for these levels, then judge it.
    float ls = qq > 0 ? static_cast<float>(xq / qq) : d;
    if (f16_scale) ls = f16_round(ls);
    for (float cand : {d, ls}) {
      if (!(cand != 0)) continue;
      err = 0;
      for (int i = 0; i < n; ++i) {
        const int l = std::clamp(static_cast<int>(std::nearbyint(x[i] / cand)), qmin, qmax);
        const double e = x[i] - double(cand) * l;
        err += imp[i] * e * e;
      }
      if (err < best_err) best_err = err, best_d = cand;
    }
  };
  for (float levels = 6.5f; levels <= 8.51f; levels += 0.125f) evaluate(amax / levels);
  evaluate(signed_max / float(qmin));
  for (int i = 0; i < n; ++i) q[i] = std::clamp(static_cast<int>(std::nearbyint(x[i] / best_d)), qmin, qmax);
  return best_d;
}

// Q4 in our layout (f16 scale per 32, levels [-8, 7]) with the scale chosen
// by search: decodable by today's kernels unchanged. `imp` per input column
// (empty: all 1).
std::vector<float> q4_searched(const Matrix& m, const std::vector<float>& imp_cols) {
  std::vector<float> out(m.w.size());
  std::vector<float> ones(32, 1.0f);
  int q[32];
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c0 = 0; c0 < m.cols; c0 += 32) {
      const float* x = &m.w[r * m.cols + c0];
      const float* imp = imp_cols.empty() ? ones.data() : &imp_cols[c0];
      const float d = best_symmetric_scale(x, imp, 32, -8, 7, true, q);
      for (int i = 0; i < 32; ++i) out[r * m.cols + c0 + i] = d * q[i];
    }
  return out;
}

// Least-squares fit of x ≈ scale·l + offset over the weighted points for
// fixed levels l; offset is kept <= 0 (a minimum below the block). The
// k-quant search: candidate level assignments from a sweep of inverse scales.
struct AffineFit {
  float scale = 0, min = 0;  // x ≈ scale·l - min, min >= 0
};

AffineFit fit_affine_levels(const float* x, const float* w, int n, int nmax, int* levels) {
  float lo = x[0], hi = x[0];
  for (int i = 1; i < n; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
  lo = std::min(lo, 0.0f);
  if (hi <= lo) {
    std::fill(levels, levels + n, 0);
    return {0, -lo};
  }
  double sum_w = 0, sum_x = 0;
  for (int i = 0; i < n; ++i) sum_w += w[i], sum_x += double(w[i]) * x[i];
  auto error_of = [&](float scale, float offset, const int* l) {
    double e = 0;
    for (int i = 0; i < n; ++i) {
      const double d = double(scale) * l[i] + offset - x[i];
      e += w[i] * d * d;
    }
    return e;
  };
  std::vector<int> l(n);
  AffineFit best;
  float best_offset = lo;
  float iscale = nmax / (hi - lo);
  best.scale = 1 / iscale;
  for (int i = 0; i < n; ++i) levels[i] = std::clamp(static_cast<int>(std::nearbyint(iscale * (x[i] - lo))), 0, nmax);
  double best_err = error_of(best.scale, best_offset, levels);
  // Sweep 20 inverse scales around nmax / range, refit each by least squares.
  for (int step = 0; step <= 20; ++step) {
    iscale = (-1.0f + 0.1f * step + nmax) / (hi - lo);
    double sl = 0, sl2 = 0, sxl = 0;
    for (int i = 0; i < n; ++i) {
      l[i] = std::clamp(static_cast<int>(std::nearbyint(iscale * (x[i] - lo))), 0, nmax);
      sl += double(w[i]) * l[i];
      sl2 += double(w[i]) * l[i] * l[i];
      sxl += double(w[i]) * l[i] * x[i];
    }
    const double det = sum_w * sl2 - sl * sl;
    if (det <= 0) continue;
    double scale = (sum_w * sxl - sum_x * sl) / det, offset = (sl2 * sum_x - sl * sxl) / det;
    if (offset > 0) offset = 0, scale = sxl / sl2;
    const double err = error_of(float(scale), float(offset), l.data());
    if (err < best_err) {
      best_err = err;
      best.scale = float(scale);
      best_offset = float(offset);
      std::copy(l.begin(), l.end(), levels);
    }
  }
  best.min = -best_offset;
  return best;
}

// llama.cpp's Q4_K: super-blocks of 256 = 8 blocks of 32; per block a 6-bit
// scale and a 6-bit minimum, per super-block f16 multipliers for both;
// x ≈ d·sc·q - dmin·m with q in [0, 15]. 4.5 bits per weight. Block fits are
// weighted by (rms of the block + |x|), as llama.cpp does without an
// importance matrix.
std::vector<float> q4_k(const Matrix& m) {
  std::vector<float> out(m.w.size());
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t s0 = 0; s0 < m.cols; s0 += 256) {
      const float* x = &m.w[r * m.cols + s0];
      AffineFit fit[8];
      int levels[32];
      float weight[32];
      float max_scale = 0, max_min = 0;
      for (int b = 0; b < 8; ++b) {
        double ss = 0;
        for (int i = 0; i < 32; ++i) ss += double(x[32 * b + i]) * x[32 * b + i];
        const float av = static_cast<float>(std::sqrt(ss / 32));
        for (int i = 0; i < 32; ++i) weight[i] = av + std::fabs(x[32 * b + i]);
        fit[b] = fit_affine_levels(x + 32 * b, weight, 32, 15, levels);
        max_scale = std::max(max_scale, fit[b].scale);
        max_min = std::max(max_min, fit[b].min);
      }
      const float d = f16_round(max_scale / 63), dmin = f16_round(max_min / 63);
      for (int b = 0; b < 8; ++b) {
        const int sc = d > 0 ? std::clamp(static_cast<int>(std::nearbyint(fit[b].scale / d)), 0, 63) : 0;
        const int mn = dmin > 0 ? std::clamp(static_cast<int>(std::nearbyint(fit[b].min / dmin)), 0, 63) : 0;
        const float bd = d * sc, bm = dmin * mn;
        for (int i = 0; i < 32; ++i) {
          const float v = x[32 * b + i];
          const int q = bd > 0 ? std::clamp(static_cast<int>(std::nearbyint((v + bm) / bd)), 0, 15) : 0;
          out[r * m.cols + s0 + 32 * b + i] = bd * q - bm;
        }
      }
    }
  return out;
}

// llama.cpp's Q6_K: super-blocks of 256 = 16 blocks of 16; per block an int8
// scale, per super-block an f16 multiplier; q in [-32, 31]. 6.5625 bits per
// weight. Block scales chosen by search weighted by x² (its default).
std::vector<float> q6_k(const Matrix& m) {
  std::vector<float> out(m.w.size());
  int q[16];
  float imp[16];
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t s0 = 0; s0 < m.cols; s0 += 256) {
      const float* x = &m.w[r * m.cols + s0];
      float scales[16], max_abs_scale = 0, max_scale = 0;
      for (int b = 0; b < 16; ++b) {
        for (int i = 0; i < 16; ++i) imp[i] = x[16 * b + i] * x[16 * b + i];
        scales[b] = best_symmetric_scale(x + 16 * b, imp, 16, -32, 31, false, q);
        if (std::fabs(scales[b]) > max_abs_scale) max_abs_scale = std::fabs(scales[b]), max_scale = scales[b];
      }
      const float d = f16_round(max_scale / 127);
      for (int b = 0; b < 16; ++b) {
        const int sc = d != 0 ? std::clamp(static_cast<int>(std::nearbyint(scales[b] / d)), -128, 127) : 0;
        const float bd = d * sc;
        for (int i = 0; i < 16; ++i) {
          const float v = x[16 * b + i];
          const int l = bd != 0 ? std::clamp(static_cast<int>(std::nearbyint(v / bd)), -32, 31) : 0;
          out[r * m.cols + s0 + 16 * b + i] = bd * l;
        }
      }
    }
  return out;
}

// Q4 with a per-block minimum (Q4_1-like): f16 scale and f16 minimum per 32,
// q in [0, 15], fitted like the k-quants. 5.0 bits per weight.
std::vector<float> q4_min(const Matrix& m) {
  std::vector<float> out(m.w.size());
  std::vector<float> ones(32, 1.0f);
  int levels[32];
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c0 = 0; c0 < m.cols; c0 += 32) {
      const float* x = &m.w[r * m.cols + c0];
      const AffineFit fit = fit_affine_levels(x, ones.data(), 32, 15, levels);
      const float d = f16_round(fit.scale), mn = f16_round(fit.min);
      for (int i = 0; i < 32; ++i) {
        const int q = d > 0 ? std::clamp(static_cast<int>(std::nearbyint((x[i] + mn) / d)), 0, 15) : 0;
        out[r * m.cols + c0 + i] = d * q - mn;
      }
    }
  return out;
}

// Q4 with an integer zero point: x ≈ d·(q - z), q in [0, 15], an f16 d and a
// 4-bit z per 32 (4.625 bits per weight). The kernel cost is today's: our
// Q4 dot already subtracts a fixed 8·Σx per block; this subtracts z·Σx.
// d and z by search: for each z, the f16 d minimising the squared error.
std::vector<float> q4_zero_point(const Matrix& m) {
  std::vector<float> out(m.w.size());
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c0 = 0; c0 < m.cols; c0 += 32) {
      const float* x = &m.w[r * m.cols + c0];
      float lo = 0, hi = 0;
      for (int i = 0; i < 32; ++i) lo = std::min(lo, x[i]), hi = std::max(hi, x[i]);
      double best_err = 1e300;
      float best_d = 0;
      int best_z = 8;
      for (int z = 0; z <= 15; ++z) {
        // Levels below and above zero: q - z spans [-z, 15 - z].
        for (float stretch = 0.9f; stretch <= 1.101f; stretch += 0.025f) {
          float d = 0;
          if (z > 0) d = std::max(d, -lo / z);
          if (z < 15) d = std::max(d, hi / (15 - z));
          d = f16_round(d * stretch);
          if (!(d > 0)) continue;
          double err = 0;
          for (int i = 0; i < 32; ++i) {
            const int q = std::clamp(static_cast<int>(std::nearbyint(x[i] / d)) + z, 0, 15);
            const double e = x[i] - double(d) * (q - z);
            err += e * e;
          }
          if (err < best_err) best_err = err, best_d = d, best_z = z;
        }
      }
      for (int i = 0; i < 32; ++i) {
        const int q = best_d > 0 ? std::clamp(static_cast<int>(std::nearbyint(x[i] / best_d)) + best_z, 0, 15) : best_z;
        out[r * m.cols + c0 + i] = best_d * (q - best_z);
      }
    }
  return out;
}

// Q4 with a two-level scale: symmetric levels [-8, 7], a 6-bit scale per 32
// and an f16 multiplier per 256. 4.25 bits per weight.
std::vector<float> q4_two_level(const Matrix& m) {
  std::vector<float> out(m.w.size());
  std::vector<float> ones(32, 1.0f);
  int q[32];
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t s0 = 0; s0 < m.cols; s0 += 256) {
      const float* x = &m.w[r * m.cols + s0];
      float scales[8], max_scale = 0;
      for (int b = 0; b < 8; ++b) {
        scales[b] = std::fabs(best_symmetric_scale(x + 32 * b, ones.data(), 32, -8, 7, false, q));
        max_scale = std::max(max_scale, scales[b]);
      }
      const float d = f16_round(max_scale / 63);
      for (int b = 0; b < 8; ++b) {
        // The 6-bit scale is unsigned: every block uses the magnitude of its searched scale.
        const int sc = d > 0 ? std::clamp(static_cast<int>(std::nearbyint(scales[b] / d)), 1, 63) : 0;
        const float bd = d * sc;
        for (int i = 0; i < 32; ++i) {
          const float v = x[32 * b + i];
          const int l = bd > 0 ? std::clamp(static_cast<int>(std::nearbyint(v / bd)), -8, 7) : 0;
          out[r * m.cols + s0 + 32 * b + i] = bd * l;
        }
      }
    }
  return out;
}

// ------------------------------------------------------------- measurement

// Signal-to-noise ratios in dB: of the weights, 10·log10(Σw² / Σ(w - ŵ)²),
// and of the layer's output for independent zero-mean activations with the
// given per-channel variances, the same sums with each column weighted by
// its variance.
double weight_snr_db(const Matrix& m, const std::vector<float>& rec) {
  double s = 0, e = 0;
  for (size_t i = 0; i < m.w.size(); ++i) {
    const double w = m.w[i], d = w - rec[i];
    s += w * w, e += d * d;
  }
  return 10 * std::log10(s / e);
}

// Σ(w - ŵ)²·var / Σw²·var: the output's relative error energy.
double output_error_ratio(const Matrix& m, const std::vector<float>& rec, const std::vector<double>& act_var) {
  double s = 0, e = 0;
  for (int64_t r = 0; r < m.rows; ++r)
    for (int64_t c = 0; c < m.cols; ++c) {
      const double w = m.w[r * m.cols + c], d = w - rec[r * m.cols + c];
      s += w * w * act_var[c], e += d * d * act_var[c];
    }
  return e / s;
}

struct Format {
  const char* name;
  double bits;  // per weight, scales included
  std::function<std::vector<float>(const Matrix&, const std::vector<float>& imp)> run;
  bool calibrated = false;  // uses the activation variances (re-run per draw)
};

}  // namespace

int main(int argc, char** argv) {
  int64_t rows = 256;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::string(argv[i]) == "--rows") rows = std::atoll(argv[i + 1]);
  const int64_t cols = 2560;  // the 4B model's hidden width: q/k/v/gate/up inputs

  const std::vector<Format> formats = {
      {"ours q8 (f16 scale / 32, [-127,127])", 8.5, [](const Matrix& m, auto&) { return ours(m, WeightFormat::Q8); }},
      {"ours q4 (f16 scale / 32, amax/7, [-7,7])", 4.5, [](const Matrix& m, auto&) { return ours(m, WeightFormat::Q4); }},
      {"q4 searched scale, [-8,7] (same layout)", 4.5, [](const Matrix& m, auto&) { return q4_searched(m, {}); }},
      {"q4 searched, activation-weighted (imatrix)", 4.5,
       [](const Matrix& m, const std::vector<float>& imp) { return q4_searched(m, imp); }, true},
      {"q4 two-level scale (6-bit / 32, f16 / 256)", 4.25, [](const Matrix& m, auto&) { return q4_two_level(m); }},
      {"q4 zero point (f16 scale + 4-bit z / 32)", 4.625, [](const Matrix& m, auto&) { return q4_zero_point(m); }},
      {"q4 with minimum (f16 scale + min / 32)", 5.0, [](const Matrix& m, auto&) { return q4_min(m); }},
      {"llama.cpp Q4_K", 4.5, [](const Matrix& m, auto&) { return q4_k(m); }},
      {"llama.cpp Q6_K", 6.5625, [](const Matrix& m, auto&) { return q6_k(m); }},
  };

  // Output errors average over several activation draws: a few "massive"
  // channels dominate each draw, and where they land is luck.
  constexpr int kDraws = 8;
  std::vector<std::vector<double>> act_var;
  for (int k = 0; k < kDraws; ++k) act_var.push_back(activation_variances(cols, 99 + k));
  std::printf("| weights | format | bits/weight | weight SNR (dB) | weight dB - 6.02 x bits | output SNR (dB) | "
              "output dB - 6.02 x bits |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  auto row = [](Family f, const std::string& name, double bits, double wsnr, double osnr) {
    std::printf("| %s | %s | %.4g | %.2f | %+.2f | %.2f | %+.2f |\n", family_name(f), name.c_str(), bits, wsnr,
                wsnr - 6.02 * bits, osnr, osnr - 6.02 * bits);
  };
  for (Family f : {Family::Gaussian, Family::LlmLike, Family::HeavyOutliers}) {
    const Matrix m = make_matrix(f, rows, cols, 1234 + static_cast<int>(f));
    double q4k_w = 0, q4k_o = 0, q6k_w = 0, q6k_o = 0;  // error ratios
    for (const Format& fmt : formats) {
      double wratio = 0, oratio = 0;
      if (fmt.calibrated) {
        // Calibrated on each draw's variances, judged on the same draw.
        for (const auto& v : act_var) {
          const std::vector<float> rec = fmt.run(m, std::vector<float>(v.begin(), v.end()));
          wratio += std::pow(10, -weight_snr_db(m, rec) / 10) / kDraws;
          oratio += output_error_ratio(m, rec, v) / kDraws;
        }
      } else {
        const std::vector<float> rec = fmt.run(m, {});
        wratio = std::pow(10, -weight_snr_db(m, rec) / 10);
        for (const auto& v : act_var) oratio += output_error_ratio(m, rec, v) / kDraws;
      }
      row(f, fmt.name, fmt.bits, -10 * std::log10(wratio), -10 * std::log10(oratio));
      if (std::string(fmt.name) == "llama.cpp Q4_K") q4k_w = wratio, q4k_o = oratio;
      if (std::string(fmt.name) == "llama.cpp Q6_K") q6k_w = wratio, q6k_o = oratio;
    }
    // Q4_K_M on the 4B decoder: attn_v and ffn_down in 17 of 36 layers (the
    // first and last eighth, and every third layer between) are Q6_K, the
    // other linear weights Q4_K; the errors mix by parameter share.
    const double per_layer = (4096.0 + 1024 + 1024 + 4096) * 2560 + 3.0 * 9728 * 2560;
    const double q6_share = 17.0 * (1024.0 * 2560 + 2560.0 * 9728) / (36.0 * per_layer);
    const double bits = q6_share * 6.5625 + (1 - q6_share) * 4.5;
    row(f, "llama.cpp Q4_K_M mix (" + std::to_string(int(std::lround(100 * q6_share))) + "% Q6_K)", bits,
        -10 * std::log10(q6_share * q6k_w + (1 - q6_share) * q4k_w),
        -10 * std::log10(q6_share * q6k_o + (1 - q6_share) * q4k_o));
  }
  return 0;
}
