#include "qwen3vl/runtime/kernel_tuning.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "qwen3vl/base/json.h"
#include "qwen3vl/base/system_probe.h"
#include "qwen3vl/kernels/attention.h"
#include "qwen3vl/kernels/cpu_features.h"

namespace qwen3vl {

namespace {

// Bumped when the candidates or the probe change, so old entries are re-measured.
constexpr int kCacheVersion = 1;
constexpr const char* kCacheFile = "kernel-choices.json";

// The vision tower's attention (head_dim 64 in Qwen3-VL's 2B-8B towers, 16
// heads) on 256 patches: ~0.27 GFLOP, 1-5 ms per run on two cores.
AttentionShape probe_shape() {
  AttentionShape s;
  s.n_q = s.n_kv = 256;
  s.n_heads = s.n_kv_heads = 16;
  s.head_dim = 64;
  s.q_stride = s.kv_stride = 3 * 16 * 64;  // [q | k | v] rows, as the tower lays them out
  s.out_stride = 16 * 64;
  s.scale = 0.125f;
  s.inputs_format = WeightFormat::Q8;
  return s;
}

double best_ms(const AttentionShape& s, AttentionProducts p, const std::vector<float>& qkv, std::vector<float>& out,
               ThreadPool& pool) {
  double best = INFINITY;
  for (int run = 0; run < 4; ++run) {  // the first warms caches and the pool
    const auto t0 = std::chrono::steady_clock::now();
    attention_with_products(qkv.data(), qkv.data() + s.out_stride, qkv.data() + 2 * s.out_stride, s, p, out.data(),
                            pool);
    const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    if (run > 0) best = std::min(best, ms);
  }
  return best;
}

std::string tuning_key(const ThreadPool& pool) {
  return cpu_model_name() + " | " + isa_level_name(active_isa_level()) + " | " + std::to_string(pool.size()) +
         " threads";
}

Json read_cache(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return Json::object();
  std::stringstream text;
  text << in.rdbuf();
  Json j = Json::parse(text.str(), nullptr, false);
  return j.is_object() ? j : Json::object();
}

// Written to a temporary file and renamed: concurrent loads never read half a file.
void write_cache(const std::filesystem::path& file, const Json& j) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  const std::filesystem::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out) return;
    out << j.dump(2) << "\n";
    if (!out) return;
  }
  std::filesystem::rename(tmp, file, ec);
  if (ec) std::filesystem::remove(tmp, ec);
}

std::string format_ms(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", ms);
  return buf;
}

}  // namespace

std::string KernelTuning::summary() const {
  std::string s = std::string("quantized vision attention: ") + attention_products_name(choices.quantized_attention) +
                  " products";
  if (attention_f32_ms > 0.0 && attention_bf16_ms > 0.0)
    s += " (f32 " + format_ms(attention_f32_ms) + " ms, bf16 " + format_ms(attention_bf16_ms) + " ms on the probe; ";
  else
    s += " (";
  return s + origin + " for " + key + ")";
}

KernelTuning measure_kernels(ThreadPool& pool) {
  KernelTuning t;
  t.key = tuning_key(pool);
  const AttentionShape s = probe_shape();
  if (!attention_products_available(AttentionProducts::BF16, s)) {
    t.choices.quantized_attention = AttentionProducts::F32;
    t.origin = "only one candidate on this CPU";
    return t;
  }
  std::vector<float> qkv(static_cast<size_t>(s.n_q * s.q_stride)), out(static_cast<size_t>(s.n_q * s.out_stride));
  for (size_t i = 0; i < qkv.size(); ++i) qkv[i] = std::sin(static_cast<float>(i) * 0.37f);
  t.attention_f32_ms = best_ms(s, AttentionProducts::F32, qkv, out, pool);
  t.attention_bf16_ms = best_ms(s, AttentionProducts::BF16, qkv, out, pool);
  t.choices.quantized_attention =
      t.attention_bf16_ms < t.attention_f32_ms ? AttentionProducts::BF16 : AttentionProducts::F32;
  t.origin = "measured";
  return t;
}

KernelTuning tune_kernels(ThreadPool& pool, const std::string& cache_dir) {
  const std::filesystem::path file = std::filesystem::path(cache_dir) / kCacheFile;
  const std::string key = tuning_key(pool);
  Json cache = read_cache(file);
  const Json& entry = cache.contains(key) ? cache[key] : Json();
  if (entry.is_object() && entry.value("version", 0) == kCacheVersion) {
    const std::string products = entry.value("quantized_attention", "");
    if (products == "f32" || products == "bf16") {
      KernelTuning t;
      t.key = key;
      t.origin = "cached";
      t.choices.quantized_attention = products == "bf16" ? AttentionProducts::BF16 : AttentionProducts::F32;
      t.attention_f32_ms = entry.value("attention_f32_ms", 0.0);
      t.attention_bf16_ms = entry.value("attention_bf16_ms", 0.0);
      // A cached bf16 choice the CPU cannot run now (e.g. QWEN3VL_ISA capped) falls back safely in
      // attention(); the key includes the ISA level, so this does not arise in practice.
      return t;
    }
  }
  KernelTuning t = measure_kernels(pool);
  cache[key] = {{"version", kCacheVersion},
                {"quantized_attention", attention_products_name(t.choices.quantized_attention)},
                {"attention_f32_ms", t.attention_f32_ms},
                {"attention_bf16_ms", t.attention_bf16_ms},
                {"how", t.origin}};
  write_cache(file, cache);
  return t;
}

}  // namespace qwen3vl
