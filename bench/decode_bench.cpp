// End-to-end decode speed of the text decoder of a real-shaped checkpoint,
// compared with the memory-bandwidth limit measured in the same process.
//
//   build/bin/decode_bench [--model DIR] [--quant q4|q8|bf16|auto] [--kv-cache f16|bf16|q8|f32]
//                          [--prompt 512] [--gen 128] [--threads 2] [--batch N]
//
// Loads the checkpoint (text decoder only) with the --quant weight formats,
// prefills a prompt of random token ids, then decodes greedily and prints:
// decode tok/s, bytes of weights read per token (TextDecoder::weight_bytes()),
// the read bandwidth measured right before and after decoding, the limit
// (bandwidth / bytes per token) and the fraction of it reached, and where a
// decode step's time goes. The machine may be shared: run it twice and look
// at the fraction, which compares two measurements taken under the same load.
//
// --batch N (continuous batching, the server's Session::decode_together):
// prefills N more sequences with the same prompt, then times --gen steps of
// one sequence alone (decode_step) against --gen batched passes of the N
// (decode_batch), alternating the two so both see the same machine load,
// and prints what a batched pass costs relative to one step (1.0 would be N
// sequences for the price of one) and where the time of each goes. Issue 8's
// target of 4 streams >= 2.5x one stream needs a 4-row pass <= 1.6x a step.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/model/qwen3vl_model.h"
#include "qwen3vl/model/text_decoder.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/bandwidth_probe.h"
#include "qwen3vl/runtime/model_impl.h"

using namespace qwen3vl;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

struct Options {
  std::string model = "/work/models/4b";
  std::string quant = "q4";
  std::string kv_cache = "f16";
  int prompt = 512;
  int gen = 128;
  int threads = 2;
  int batch = 0;
};

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw Error("missing value after " + a);
      return argv[++i];
    };
    if (a == "--model") o.model = next();
    else if (a == "--quant") o.quant = next();
    else if (a == "--kv-cache") o.kv_cache = next();
    else if (a == "--prompt") o.prompt = std::stoi(next());
    else if (a == "--gen") o.gen = std::stoi(next());
    else if (a == "--threads") o.threads = std::stoi(next());
    else if (a == "--batch") o.batch = std::stoi(next());
    else throw Error("unknown option " + a + " (see the comment at the top of bench/decode_bench.cpp)");
  }
  if (o.prompt < 1 || o.gen < 1) throw Error("--prompt and --gen must be positive");
  if (o.batch == 1 || o.batch < 0) throw Error("--batch must be at least 2 (sequences decoded together)");
  return o;
}

// Where the time of `calls` forward passes went, per pass; "other" is what
// the profile does not cover of `wall_ms` (per pass).
void print_profile(const char* what, const DecoderProfile& p, double calls, double wall_ms) {
  std::printf("%s: qkv %.2f | attention %.2f | o_proj %.2f | mlp %.2f | head %.2f | norms/rope/act %.2f "
              "| embed %.2f | other %.2f\n",
              what, p.qkv_ms / calls, p.attention_ms / calls, p.out_proj_ms / calls, p.mlp_ms / calls,
              p.head_ms / calls, p.norms_ms / calls, p.embed_ms / calls, wall_ms - p.total_ms() / calls);
}

int32_t argmax(std::span<const float> v) {
  return static_cast<int32_t>(std::max_element(v.begin(), v.end()) - v.begin());
}

void print_pass_profile(const std::string& what, const DecoderProfile& p, double wall_ms, int steps) {
  const double n = steps;
  std::printf("  %-7s %7.1f ms/pass: qkv %.1f | attention %.1f | o_proj %.1f | mlp %.1f | head %.1f | "
              "norms/rope/act %.1f | embed %.1f | outside the decoder %.1f\n",
              what.c_str(), wall_ms / n, p.qkv_ms / n, p.attention_ms / n, p.out_proj_ms / n, p.mlp_ms / n,
              p.head_ms / n, p.norms_ms / n, p.embed_ms / n, (wall_ms - p.total_ms()) / n);
}

// --batch: one sequence's decode step against a pass decoding `batch` sequences.
void compare_batched_pass(const Options& o, const Qwen3VLModel& network, ThreadPool& pool, const DecoderInput& prompt,
                          int64_t context_length) {
  const TextDecoder& decoder = network.decoder();
  const int64_t vocab = decoder.config().vocab_size;
  std::vector<KVCache> caches;  // [0] decodes alone, [1..batch] together
  std::vector<int32_t> tokens;
  DecoderWorkspace ws;
  const auto t_prefill = Clock::now();
  for (int s = 0; s <= o.batch; ++s) {
    caches.push_back(decoder.make_cache(context_length, parse_kv_cache_type(o.kv_cache)));
    tokens.push_back(argmax(decoder.forward(prompt, caches.back(), ws, ForwardContext{pool})));
  }
  std::printf("--batch %d: prefill %d x %zu tokens: %.1f s\n", o.batch, o.batch + 1, prompt.ids.size(),
              seconds_since(t_prefill));
  DecoderProfile alone, together;
  double alone_ms = 0, together_ms = 0;
  for (int step = 0; step < o.gen; ++step) {
    auto t = Clock::now();
    tokens[0] = argmax(network.decode_step(tokens[0], 0, caches[0], ws, ForwardContext{pool, nullptr, &alone}));
    alone_ms += 1e3 * seconds_since(t);
    std::vector<DecodeRequest> requests;
    for (int s = 1; s <= o.batch; ++s) requests.push_back({tokens[s], 0, &caches[s]});
    t = Clock::now();
    const auto rows = network.decode_batch(requests, ws, ForwardContext{pool, nullptr, &together});
    for (int s = 1; s <= o.batch; ++s) tokens[s] = argmax(rows.subspan((s - 1) * vocab, vocab));
    together_ms += 1e3 * seconds_since(t);
  }
  const double ratio = together_ms / alone_ms;
  std::printf("a %d-row pass costs %.2fx one step -> %d sequences decode %.2fx one sequence's tokens/s\n", o.batch,
              ratio, o.batch, o.batch / ratio);
  print_pass_profile("1 row", alone, alone_ms, o.gen);
  print_pass_profile(std::to_string(o.batch) + " rows", together, together_ms, o.gen);
}

int run(const Options& o) {
  LoadOptions lo;
  lo.threads = o.threads;
  lo.weights = o.quant;
  lo.kv_cache = o.kv_cache;
  lo.context_length = o.prompt + o.gen + 2;
  lo.load_vision = false;
  const auto t_load = Clock::now();
  auto model = Model::load(o.model, lo);
  const double load_s = seconds_since(t_load);
  const Qwen3VLModel& network = loaded_network(*model);
  ThreadPool& pool = *ModelAccess::of(*model).pool;
  const TextDecoder& decoder = network.decoder();
  DecoderWorkspace workspace;  // this run's scratch; the weights are the model's
  DecoderProfile profile;
  KVCache cache = decoder.make_cache(lo.context_length, parse_kv_cache_type(o.kv_cache));
  const TextConfig& tc = decoder.config();
  std::printf("model %s: %d layers, hidden %lld, vocab %lld | --quant %s --kv-cache %s | %d threads, ISA %s\n",
              o.model.c_str(), tc.num_layers, static_cast<long long>(tc.hidden_size),
              static_cast<long long>(tc.vocab_size), o.quant.c_str(), o.kv_cache.c_str(), pool.size(),
              isa_level_name(active_isa_level()));
  std::printf("load %.1f s\n", load_s);

  // Prompt: random ordinary-token ids at positions 0..L-1 on all three axes.
  std::mt19937 rng(7);
  std::uniform_int_distribution<int32_t> pick(0, 150000);
  std::vector<int32_t> ids(static_cast<size_t>(o.prompt));
  for (int32_t& id : ids) id = pick(rng);
  std::vector<int32_t> pos(ids.size());
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int32_t>(i);
  DecoderInput prompt;
  prompt.ids = ids;
  for (int a = 0; a < 3; ++a) prompt.positions[a] = pos;
  DecoderProfile prefill_profile;
  const auto t_prefill = Clock::now();
  int32_t token = argmax(decoder.forward(prompt, cache, workspace, ForwardContext{pool, nullptr, &prefill_profile}));
  const double prefill_s = seconds_since(t_prefill);
  std::printf("prefill %d tokens: %.2f s (%.1f tok/s)\n", o.prompt, prefill_s, o.prompt / prefill_s);
  print_profile("prefill (ms)", prefill_profile, 1.0, 1e3 * prefill_s);

  const double bw_before = probe_read_bandwidth(pool).gbps;
  const ForwardContext profiled{pool, nullptr, &profile};
  double argmax_s = 0;
  const auto t_decode = Clock::now();
  for (int step = 0; step < o.gen; ++step) {
    const int32_t p = static_cast<int32_t>(cache.size());
    DecoderInput in;
    in.ids = std::span<const int32_t>(&token, 1);
    for (int a = 0; a < 3; ++a) in.positions[a] = std::span<const int32_t>(&p, 1);
    const auto logits = decoder.forward(in, cache, workspace, profiled);
    const auto t_arg = Clock::now();
    token = argmax(logits);
    argmax_s += seconds_since(t_arg);
  }
  const double decode_s = seconds_since(t_decode);
  const double bw_after = probe_read_bandwidth(pool).gbps;

  const double tok_s = o.gen / decode_s;
  const double weight_bytes = static_cast<double>(decoder.weight_bytes());
  const double kv_bytes = static_cast<double>(tc.num_layers) *
                          static_cast<double>(cache.bytes_per_layer(o.prompt + o.gen / 2));  // mean context
  const double bw = std::max(bw_before, bw_after);
  const double limit = bw * 1e9 / weight_bytes;
  std::printf("decode %d tokens: %.2f s = %.2f tok/s (%.1f ms/token)\n", o.gen, decode_s, tok_s, 1e3 / tok_s);
  std::printf("weights read per token: %.1f MB; KV cache read per token (mean context): %.1f MB\n",
              weight_bytes / 1e6, kv_bytes / 1e6);
  std::printf("read bandwidth: %.1f GB/s before, %.1f GB/s after decode (using %.1f)\n", bw_before, bw_after, bw);
  std::printf("limit (bandwidth / weight bytes): %.2f tok/s -> decode reaches %.0f%% of it\n", limit,
              100.0 * tok_s / limit);
  std::printf("effective weight stream during decode: %.1f GB/s (%.1f GB/s with the KV cache)\n",
              weight_bytes * tok_s / 1e9, (weight_bytes + kv_bytes) * tok_s / 1e9);
  std::printf("argmax %.2f ms per token\n", 1e3 * argmax_s / o.gen);
  print_profile("per token (ms)", profile, static_cast<double>(std::max<int64_t>(profile.calls, 1)),
                1e3 * (decode_s - argmax_s) / o.gen);
  if (o.batch >= 2) compare_batched_pass(o, network, pool, prompt, lo.context_length);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress lines appear as they happen
  try {
    return run(parse(argc, argv));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "decode_bench: %s\n", e.what());
    return 1;
  }
}
