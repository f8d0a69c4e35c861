#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/runtime/benchmark.h"

namespace qwen3vl::cli {

namespace {

// The lines of bench --verbose for a Mixture-of-Experts model.
void print_expert_usage(const Json& u) {
  auto range = [](const Json& r, double scale) {
    char text[96];
    if (r.is_null()) return std::string("-");
    std::snprintf(text, sizeof(text), "%.2f (min %.2f, max %.2f)", r["mean"].get<double>() * scale,
                  r["min"].get<double>() * scale, r["max"].get<double>() * scale);
    return std::string(text);
  };
  std::printf("experts: %d MoE layers x %d experts, top %d, %.2f MB per expert\n", u["moe_layers"].get<int>(),
              u["experts"].get<int>(), u["top_k"].get<int>(), u["expert_bytes"].get<double>() / 1e6);
  const Json& p = u["prefill"];
  std::printf("  prefill: distinct experts per layer %s; tokens per expert mean %.1f, max %lld\n",
              range(p["distinct_experts_per_layer"], 1).c_str(), p["tokens_per_expert_mean"].get<double>(),
              static_cast<long long>(p["tokens_per_expert_max"].get<int64_t>()));
  const Json& d = u["decode"];
  std::printf("  decode step: distinct experts read per layer %s\n",
              range(d["distinct_experts_per_layer_step"], 1).c_str());
  std::printf("  decode step: expert bytes read (GB) %s\n", range(d["expert_bytes_per_step"], 1e-9).c_str());
  std::printf("  decode run (%lld steps): distinct experts touched per layer %s\n",
              static_cast<long long>(d["steps"].get<int64_t>()), range(d["distinct_experts_per_layer_run"], 1).c_str());
}

}  // namespace

int bench_command(int argc, char** argv) {
  Args args("bench",
            "Measures, in one run: memory read bandwidth, weight bytes read per token, decode tok/s and its\n"
            "fraction of the bandwidth limit, prefill tok/s, vision encoder time for 448x448 and 1000x750\n"
            "images, time to first token for \"Describe this image.\" with the 1000x750 image, the same for a\n"
            "10-second 640x360 video (frame decode, vision, tokens), load time and peak RSS. Make a model of real shape with `qwen3vl make-random-model --preset 4b -o DIR`.");
  add_model_options(args);
  args.value("--prompt-tokens", "N", "prefill length (default 512)")
      .value("--decode-tokens", "N", "tokens to decode (default 128)")
      .value("--probe-mib", "N", "bandwidth probe buffer in MiB (default 1024; keep it far above the caches)")
      .flag("--no-vision", "skip the vision encoder and time-to-first-token measurements")
      .flag("--no-video", "skip the video line (10 s 640x360 clip: frame decode, vision, time to first token)")
      .flag("--json", "print one JSON object")
      .flag("-v,--verbose", "also print the expert usage of a Mixture-of-Experts model (in --json always)");
  if (!args.parse(argc, argv, 2)) return 0;
  BenchOptions o;
  o.model = args.get("model");
  o.weights = args.get("quant", "auto");
  o.threads = threads_from_args(args, false);
  o.kv_cache = args.get("kv-cache", "auto");
  o.context_length = args.get_int64("ctx", 4096, 1);
  o.prompt_tokens = args.get_int("prompt-tokens", 512, 1);
  o.decode_tokens = args.get_int("decode-tokens", 128, 1);
  o.vision = !args.has("no-vision");
  o.video = !args.has("no-video");
  o.probe_bytes = static_cast<size_t>(args.get_int64("probe-mib", 1024, 4)) << 20;
  if (int64_t{o.prompt_tokens} + o.decode_tokens >= o.context_length)
    args.fail("--prompt-tokens + --decode-tokens must fit in --ctx");
  o.log = [](const std::string& s) { std::cerr << "bench: " << s << "\n"; };
  const Json r = run_benchmark(o);
  if (args.has("json")) {
    std::cout << r.dump() << "\n";
    return 0;
  }
  auto num = [&](const char* k) { return r.contains(k) ? r[k].get<double>() : -1.0; };
  std::printf("model %s, weights %s, KV cache %s, %d threads, ISA %s\n", r["model"].get<std::string>().c_str(),
              r["weights"].get<std::string>().c_str(), r["kv_cache"].get<std::string>().c_str(), r["threads"].get<int>(),
              r["isa"].get<std::string>().c_str());
  std::printf("%-34s %12.2f\n", "memory read bandwidth (GB/s)", num("membw_gbps"));
  std::printf("%-34s %12.3f\n", "weight bytes per token (GB)", num("weight_bytes_per_token") / 1e9);
  std::printf("%-34s %12.2f\n", "decode (tok/s)", num("decode_tps"));
  std::printf("%-34s %12.2f\n", "decode streamed (GB/s)", num("decode_stream_gbps"));
  std::printf("%-34s %12.2f\n", "decode limit (tok/s)", num("decode_limit_tps"));
  if (r["decode_exceeds_probe"].get<bool>())
    std::printf("decode fraction of limit: none, %s\n", r["note"].get<std::string>().c_str());
  else
    std::printf("%-34s %11.0f%%\n", "decode fraction of limit", 100 * num("decode_fraction_of_limit"));
  std::printf("%-34s %12.2f\n", "prefill (tok/s)", num("prefill_tps"));
  if (r.contains("vision_ms_448")) {
    std::printf("%-34s %12.0f\n", "vision encoder 448x448 (ms)", num("vision_ms_448"));
    std::printf("%-34s %12.0f\n", "vision encoder 1000x750 (ms)", num("vision_ms_1000x750"));
    std::printf("%-34s %12.0f\n", "time to first token 1000x750 (ms)", num("ttft_ms_1000x750"));
  }
  if (r.contains("video_vision_ms")) {
    std::printf("video 10 s 640x360 (%s): %.0f tokens\n", r["video_codec"].get<std::string>().c_str(),
                num("video_tokens"));
    std::printf("%-34s %12.0f\n", "  frame decode (ms)", num("video_decode_ms"));
    std::printf("%-34s %12.0f\n", "  preprocess (ms)", num("video_preprocess_ms"));
    std::printf("%-34s %12.0f\n", "  vision encoder (ms)", num("video_vision_ms"));
    std::printf("%-34s %12.3f (1000x750 image: %.3f)\n", "  vision per token (ms)", num("video_vision_ms_per_token"),
                num("vision_ms_per_token_1000x750"));
    std::printf("%-34s %12.0f\n", "  time to first token (ms)", num("video_ttft_ms"));
  }
  if (args.has("verbose") && r.contains("expert_usage")) print_expert_usage(r["expert_usage"]);
  std::printf("%-34s %12.0f\n", "load (ms)", num("load_ms"));
  std::printf("%-34s %12.2f\n", "peak RSS (GB)", num("peak_rss_bytes") / 1e9);
  std::printf("bandwidth probe: %s\n", r["membw_method"].get<std::string>().c_str());
  if (!r["kernel_choices"].get<std::string>().empty())
    std::printf("kernels: %s\n", r["kernel_choices"].get<std::string>().c_str());
  return 0;
}

}  // namespace qwen3vl::cli
