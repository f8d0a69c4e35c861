#include "qwen3vl/model/random_checkpoint.h"

#include <cstdio>
#include <filesystem>
#include <memory>
#include <vector>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/tensor_specs.h"
#include "qwen3vl/tensor/dtype.h"

namespace qwen3vl {

namespace fs = std::filesystem;

namespace {

uint64_t hash_name(const std::string& s, uint64_t seed) {
  uint64_t h = 1469598103934665603ull ^ seed;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// splitmix64: fast, and every element is addressable by index so tensors can
// be generated in parallel chunks and still be deterministic.
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// Values like a freshly initialised model's (see fill_random_bf16).
void fill(const TensorSpec& spec, uint64_t seed, uint64_t first, uint64_t count, uint16_t* out) {
  float center = 0.0f, half_width = 0.02f * 1.7320508f;
  if (spec.kind == TensorKind::NormWeight) center = 1.0f, half_width = 0.1f;
  if (spec.kind == TensorKind::Bias) half_width = 0.02f;
  const uint64_t h = hash_name(spec.name, seed);
  for (uint64_t i = 0; i < count; ++i) {
    const uint64_t r = mix(h + first + i);
    const float u = static_cast<float>(r >> 40) * (1.0f / 16777216.0f);  // [0, 1)
    out[i] = f32_to_bf16(center + (2.0f * u - 1.0f) * half_width);
  }
}

}  // namespace

std::string random_checkpoint_config_text(const Json& config) { return config.dump(2); }

void fill_random_bf16(const TensorSpec& spec, uint64_t seed, uint64_t first, uint64_t count, uint16_t* out,
                      ThreadPool& pool) {
  pool.parallel_for(static_cast<int64_t>(count), 1 << 16,
                    [&](int64_t a, int64_t b) { fill(spec, seed, first + a, b - a, out + a); });
}

void write_random_checkpoint(const Json& config_json, const std::string& dir, const RandomCheckpointOptions& opts) {
  const ModelConfig config = parse_model_config(config_json, "config");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw Error("cannot create " + dir + ": " + ec.message());

  const std::vector<TensorSpec> specs = qwen3vl_tensor_specs(config).all();
  // Assign tensors to shards in order, each shard at most max_shard_bytes.
  std::vector<std::vector<size_t>> shards(1);
  uint64_t shard_bytes = 0, total = 0;
  for (size_t i = 0; i < specs.size(); ++i) {
    uint64_t n = 2;
    for (int64_t d : specs[i].shape) n *= static_cast<uint64_t>(d);
    if (shard_bytes > 0 && shard_bytes + n > opts.max_shard_bytes) {
      shards.emplace_back();
      shard_bytes = 0;
    }
    shards.back().push_back(i);
    shard_bytes += n;
    total += n;
  }
  const bool sharded = shards.size() > 1;
  Json weight_map = Json::object();
  uint64_t written = 0;
  std::vector<uint16_t> buffer(size_t(1) << 22);
  ThreadPool pool(opts.threads);
  for (size_t s = 0; s < shards.size(); ++s) {
    char name[64];
    std::snprintf(name, sizeof(name), "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
    const std::string file = sharded ? name : "model.safetensors";
    Json header = Json::object();
    header["__metadata__"] = {{"format", "pt"}};
    uint64_t offset = 0;
    for (size_t i : shards[s]) {
      uint64_t n = 2;
      for (int64_t d : specs[i].shape) n *= static_cast<uint64_t>(d);
      header[specs[i].name] = {{"dtype", "BF16"}, {"shape", specs[i].shape}, {"data_offsets", {offset, offset + n}}};
      offset += n;
      weight_map[specs[i].name] = file;
    }
    std::string text = header.dump();
    while ((8 + text.size()) % 64) text.push_back(' ');
    AtomicFile out(dir + "/" + file);
    const uint64_t len = text.size();
    out.write(&len, 8);
    out.write(text);
    for (size_t i : shards[s]) {
      uint64_t count = 1;
      for (int64_t d : specs[i].shape) count *= static_cast<uint64_t>(d);
      for (uint64_t first = 0; first < count; first += buffer.size()) {
        const uint64_t chunk = std::min<uint64_t>(buffer.size(), count - first);
        fill_random_bf16(specs[i], opts.seed, first, chunk, buffer.data(), pool);
        out.write(buffer.data(), chunk * 2);
        written += chunk * 2;
        if (opts.progress) opts.progress(written, total);
      }
    }
    out.commit();
  }
  if (sharded) {
    Json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    write_file_atomically(dir + "/model.safetensors.index.json", index.dump(2));
  } else {
    fs::remove(dir + "/model.safetensors.index.json", ec);
  }
  write_file_atomically(dir + "/config.json", random_checkpoint_config_text(config_json));
}

}  // namespace qwen3vl
