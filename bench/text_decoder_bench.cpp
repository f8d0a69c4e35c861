// Decode-step and prefill cost of the text decoder at Qwen3-VL-2B layer sizes.
// A synthetic checkpoint (one decoder layer of the 2B shape, 16k vocabulary,
// random bf16 weights) is written to a temp dir, mapped, and unlinked; multiply the per-step
// figures by ~28 layers for the whole 2B model (plus the real 152k-row head).
#include <benchmark/benchmark.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <numeric>
#include <random>

#include "qwen3vl/base/json.h"
#include "qwen3vl/io/checkpoint.h"
#include "qwen3vl/io/safetensors.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/tensor/dtype.h"

using namespace qwen3vl;

namespace {

struct Synthetic {
  std::string dir;
  ModelConfig config;
  std::unique_ptr<Checkpoint> ckpt;
  std::unique_ptr<TextDecoder> decoder;
  DecoderWorkspace workspace;
  ThreadPool pool{0};

  std::span<const float> forward(const DecoderInput& in, KVCache& cache) {
    return decoder->forward(in, cache, workspace, ForwardContext{pool});
  }
};

Synthetic& model() {
  static Synthetic& s = *[] {
    auto owned = new Synthetic;  // lives for the whole run (holds a thread pool)
    Synthetic& m = *owned;
    m.dir = (std::filesystem::temp_directory_path() / "qwen3vl_decoder_bench").string();
    std::filesystem::create_directories(m.dir);
    Json j = load_json_file(std::string(QWEN3VL_SOURCE_DIR) + "/tests/fixtures/real-configs/qwen3-vl-2b.config.json");
    j["text_config"]["num_hidden_layers"] = 1;
    j["text_config"]["vocab_size"] = 16384;
    m.config = parse_model_config(j, "synthetic 2B-shaped config");
    const TextConfig& t = m.config.text;
    std::ofstream(m.dir + "/config.json") << j.dump();

    std::mt19937 gen(1);
    std::normal_distribution<float> nd(0.0f, 0.02f);
    SafetensorsWriter w;
    auto add = [&](const std::string& name, int64_t rows, int64_t cols, float base) {
      std::vector<uint16_t> v(static_cast<size_t>(rows * cols));
      for (auto& x : v) x = f32_to_bf16(base + nd(gen));
      w.add(name, DType::BF16, cols > 1 ? std::vector<int64_t>{rows, cols} : std::vector<int64_t>{rows}, v.data(),
            v.size() * 2);
    };
    const int64_t H = t.hidden_size, I = t.intermediate_size, hd = t.head_dim;
    const std::string p = "model.language_model.";
    add(p + "embed_tokens.weight", t.vocab_size, H, 0.0f);
    add(p + "norm.weight", H, 1, 1.0f);
    const std::string l = p + "layers.0.";
    add(l + "input_layernorm.weight", H, 1, 1.0f);
    add(l + "post_attention_layernorm.weight", H, 1, 1.0f);
    add(l + "self_attn.q_norm.weight", hd, 1, 1.0f);
    add(l + "self_attn.k_norm.weight", hd, 1, 1.0f);
    add(l + "self_attn.q_proj.weight", t.num_heads * hd, H, 0.0f);
    add(l + "self_attn.k_proj.weight", t.num_kv_heads * hd, H, 0.0f);
    add(l + "self_attn.v_proj.weight", t.num_kv_heads * hd, H, 0.0f);
    add(l + "self_attn.o_proj.weight", H, t.num_heads * hd, 0.0f);
    add(l + "mlp.gate_proj.weight", I, H, 0.0f);
    add(l + "mlp.up_proj.weight", I, H, 0.0f);
    add(l + "mlp.down_proj.weight", H, I, 0.0f);
    w.write(m.dir + "/model.safetensors");
    m.ckpt = std::make_unique<Checkpoint>(m.dir);
    std::filesystem::remove_all(m.dir);  // the mapping keeps the data; leave no 170 MB behind
    m.decoder = std::make_unique<TextDecoder>(m.config, *m.ckpt);
    return owned;
  }();
  return s;
}

void BM_DecodeStep(benchmark::State& state) {
  Synthetic& m = model();
  const int64_t context = state.range(0);
  KVCache cache = m.decoder->make_cache(context + 1);
  std::vector<int32_t> ids(static_cast<size_t>(context), 42);
  std::vector<int32_t> pos(ids.size());
  std::iota(pos.begin(), pos.end(), 0);
  DecoderInput prefill;
  prefill.ids = ids;
  for (int a = 0; a < 3; ++a) prefill.positions[a] = pos;
  m.forward(prefill, cache);
  const int32_t token = 7, position = static_cast<int32_t>(context);
  DecoderInput step;
  step.ids = std::span<const int32_t>(&token, 1);
  for (int a = 0; a < 3; ++a) step.positions[a] = std::span<const int32_t>(&position, 1);
  for (auto _ : state) {
    m.forward(step, cache);
    cache.truncate(context);
  }
  state.counters["weight_MB"] = m.decoder->weight_bytes() / 1e6;
}
BENCHMARK(BM_DecodeStep)->Arg(16)->Arg(1024)->Unit(benchmark::kMillisecond);

void BM_Prefill(benchmark::State& state) {
  Synthetic& m = model();
  const int64_t n = state.range(0);
  KVCache cache = m.decoder->make_cache(n);
  std::vector<int32_t> ids(static_cast<size_t>(n), 42);
  std::vector<int32_t> pos(ids.size());
  std::iota(pos.begin(), pos.end(), 0);
  DecoderInput in;
  in.ids = ids;
  for (int a = 0; a < 3; ++a) in.positions[a] = pos;
  for (auto _ : state) {
    cache.clear();
    m.forward(in, cache);
  }
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(n), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Prefill)->Arg(128)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
