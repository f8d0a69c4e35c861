#include "qwen3vl/runtime/benchmark.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>

#include "qwen3vl/base/system_probe.h"
#include "qwen3vl/runtime/bandwidth_probe.h"
#include "qwen3vl/base/thread_pool.h"
#include "qwen3vl/image/png_encode.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/kernels/cpu_features.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/expert_usage_stats.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/kv_cache_choice.h"
#include "qwen3vl/video/video_encode.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// Ordinary English prose, varied enough that BPE produces typical tokens.
std::vector<int32_t> english_prompt(const Tokenizer& tok, int n) {
  static const char* kSentences[] = {
      "The committee met on Tuesday to review the budget for the coming year. ",
      "Several members raised questions about the cost of maintaining the old bridge, ",
      "which has carried traffic across the river since 1932. ",
      "An engineer explained that the steel supports show signs of corrosion, ",
      "but the deck itself remains in good condition. ",
      "After a long discussion, they agreed to commission a detailed survey before spring. ",
      "Meanwhile, the library will extend its opening hours during the examination period, ",
      "and volunteers have offered to help students find quiet places to work. "};
  std::string text;
  std::vector<int32_t> ids;
  for (int round = 0; static_cast<int>(ids.size()) < n; ++round) {
    text += kSentences[round % 8];
    if (round % 8 == 7) ids = tok.encode(text, false);
  }
  ids.resize(static_cast<size_t>(n));
  return ids;
}

struct VisionTiming {
  double preprocess_ms = 0, encode_ms = 0;
  int64_t tokens = 0;
};

VisionTiming time_vision(const Model::Impl& m, int width, int height) {
  const RgbImage img = synthetic_image(width, height);
  VisionTiming t;
  auto t0 = Clock::now();
  const PreprocessedImage pre = preprocess_image(img, m.preprocessor, *m.pool);
  t.preprocess_ms = ms_since(t0);
  t0 = Clock::now();
  const MediaPixels pixels{MediaKind::Image, pre.grid, pre.pixel_values};
  const auto out = m.network->encode_media({&pixels, 1}, ForwardContext{*m.pool});
  t.encode_ms = ms_since(t0);
  t.tokens = out[0]->tokens;
  return t;
}

// The video line: a 10-second 640x360 clip at the model's default sampling,
// through a whole generation of one token. The clip is encoded here (H.264
// when this FFmpeg has it) so the decode cost is that of a real codec.
Json time_video(Session& session, const std::function<void(const std::string&)>& log) {
  log("video: encoding a 10 s 640x360 clip");
  constexpr int kWidth = 640, kHeight = 360, kFps = 30, kSeconds = 10;
  const std::string clip = "/tmp/qwen3vl-bench-" + std::to_string(::getpid()) + ".mp4";
  VideoEncodeOptions eo;
  eo.fps = kFps;
  const std::string codec = write_video_file(
      clip, kWidth, kHeight, kFps * kSeconds, [&](int i) { return synthetic_video_frame(kWidth, kHeight, i, kFps); },
      eo);
  log("video: time to first token");
  GenerateOptions g;
  g.max_tokens = 1;
  g.sampling.temperature = 0.0f;
  const Json messages =
      Json::array({{{"role", "user"},
                    {"content", Json::array({{{"type", "video"}, {"video", clip}},
                                             {{"type", "text"}, {"text", "What happens in this video?"}}})}}});
  GenerationResult res;
  try {
    res = session.generate(messages, g);
  } catch (...) {
    std::remove(clip.c_str());
    throw;
  }
  std::remove(clip.c_str());
  Json r;
  r["video_codec"] = codec;
  r["video_decode_ms"] = res.timings.video_decode_ms;
  r["video_preprocess_ms"] = res.timings.preprocess_ms;
  r["video_vision_ms"] = res.timings.vision_ms;
  r["video_tokens"] = res.video_tokens;
  r["video_ttft_ms"] = res.timings.ttft_ms;
  r["video_prompt_tokens"] = res.prompt_ids.size();
  return r;
}

}  // namespace

Json decode_against_bandwidth(double weight_bytes_per_token, double decode_tps, double probe_gbps) {
  Json r;
  r["membw_gbps"] = probe_gbps;
  // What decode itself streamed: the weights of every token, at its rate.
  const double streamed = weight_bytes_per_token * decode_tps / 1e9;
  r["decode_stream_gbps"] = streamed;
  r["decode_limit_tps"] = probe_gbps * 1e9 / weight_bytes_per_token;
  // A fraction above 1 would mean the probe, not decode, is wrong: say so
  // instead of reporting it.
  r["decode_exceeds_probe"] = streamed > probe_gbps;
  if (streamed > probe_gbps) {
    char note[200];
    std::snprintf(note, sizeof(note),
                  "decode streamed %.2f GB/s, more than the probe's %.2f GB/s: the probe under-reads this machine, "
                  "so no fraction of the limit is given",
                  streamed, probe_gbps);
    r["decode_fraction_of_limit"] = nullptr;
    r["note"] = note;
  } else {
    r["decode_fraction_of_limit"] = streamed / probe_gbps;
  }
  return r;
}

Json run_benchmark(const BenchOptions& o) {
  auto log = [&](const std::string& s) {
    if (o.log) o.log(s);
  };
  LoadOptions lo;
  lo.threads = o.threads;
  lo.weights = o.weights;
  lo.context_length = o.context_length;
  lo.load_vision = o.vision;
  if (!o.kv_cache.empty()) lo.kv_cache = o.kv_cache;
  log("loading " + (o.model.empty() ? std::string("the embedded default model") : o.model));
  auto t0 = Clock::now();
  std::shared_ptr<Model> model = o.model.empty() ? Model::load_default(lo) : Model::load(o.model, lo);
  const double load_ms = ms_since(t0);
  const Model::Impl& m = ModelAccess::of(*model);
  const Qwen3VLModel& network = loaded_network(*model);
  const TextDecoder& decoder = network.decoder();
  const ForwardContext ctx{*m.pool};
  Json r;
  r["model"] = o.model.empty() ? "embedded-default" : o.model;
  r["weights"] = model->load_options().weights;  // a model file reports its own format
  r["threads"] = model->threads();
  r["isa"] = isa_level_name(active_isa_level());
  r["load_ms"] = load_ms;
  r["kernel_choices"] = model->kernel_choices();

  // Prefill and decode on the text decoder alone (no template, no sampling).
  DecoderWorkspace workspace;
  KVCache cache = network.make_cache(o.context_length, resolved_kv_cache_type(model->load_options()));
  r["kv_cache"] = kv_cache_type_name(cache.type());
  const std::vector<int32_t> prompt = english_prompt(*m.tokenizer, o.prompt_tokens);
  std::vector<int32_t> pos(prompt.size());
  for (size_t i = 0; i < pos.size(); ++i) pos[i] = static_cast<int32_t>(i);
  log("prefill " + std::to_string(prompt.size()) + " tokens");
  DecoderInput in;
  in.ids = prompt;
  for (auto& p : in.positions) p = pos;
  t0 = Clock::now();
  auto logits = decoder.forward(in, cache, workspace, ctx);
  const double prefill_ms = ms_since(t0);
  ExpertUsageStats expert_usage(decoder);
  expert_usage.take_prefill(workspace);
  r["prompt_tokens"] = prompt.size();
  r["prefill_ms"] = prefill_ms;
  r["prefill_tps"] = prompt.size() * 1000.0 / prefill_ms;

  log("decode " + std::to_string(o.decode_tokens) + " tokens");
  int32_t token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  t0 = Clock::now();
  for (int step = 0; step < o.decode_tokens; ++step) {
    logits = network.decode_step(token, 0, cache, workspace, ctx);  // text only: rope delta 0
    if (expert_usage.active()) expert_usage.take_decode_step(workspace);
    token = static_cast<int32_t>(std::max_element(logits.begin(), logits.end()) - logits.begin());
  }
  const double decode_ms = ms_since(t0);
  const double decode_tps = o.decode_tokens * 1000.0 / decode_ms;
  r["decode_tokens"] = o.decode_tokens;
  r["decode_tps"] = decode_tps;
  r["weight_bytes_per_token"] = decoder.weight_bytes();
  if (expert_usage.active()) r["expert_usage"] = expert_usage.summary();

  if (o.vision && network.has_vision()) {
    log("vision encoder 448x448");
    const VisionTiming v448 = time_vision(m, 448, 448);
    log("vision encoder 1000x750");
    const VisionTiming v1000 = time_vision(m, 1000, 750);
    r["vision_ms_448"] = v448.encode_ms;
    r["vision_preprocess_ms_448"] = v448.preprocess_ms;
    r["vision_tokens_448"] = v448.tokens;
    r["vision_ms_1000x750"] = v1000.encode_ms;
    r["vision_preprocess_ms_1000x750"] = v1000.preprocess_ms;
    r["vision_tokens_1000x750"] = v1000.tokens;

    log("time to first token, 1000x750 image");
    const std::string png = "/tmp/qwen3vl-bench-" + std::to_string(::getpid()) + ".png";
    write_png_file(synthetic_image(1000, 750), png);
    Session session(model);
    GenerateOptions g;
    g.max_tokens = 1;
    g.sampling.temperature = 0.0f;
    const Json messages = Json::array({{{"role", "user"},
                                        {"content", Json::array({{{"type", "image"}, {"image", png}},
                                                                 {{"type", "text"}, {"text", "Describe this image."}}})}}});
    const GenerationResult res = session.generate(messages, g);
    std::remove(png.c_str());
    r["ttft_ms_1000x750"] = res.timings.ttft_ms;
    r["ttft_prompt_tokens_1000x750"] = res.prompt_ids.size();
    if (o.video) {
      Session video_session(model);  // no prefix or encodings from the image's turn
      r.update(time_video(video_session, log));
      // The tower's cost is linear in frame pairs: per merged token it should match the image's.
      r["vision_ms_per_token_1000x750"] = v1000.encode_ms / static_cast<double>(v1000.tokens);
      r["video_vision_ms_per_token"] = r["video_vision_ms"].get<double>() / r["video_tokens"].get<double>();
    }
  }
  r["peak_rss_bytes"] = peak_rss_bytes();

  // Last, so its 1 GiB buffer does not count in the peak RSS above.
  log("memory bandwidth");
  BandwidthProbeOptions po;
  po.bytes = o.probe_bytes;
  const BandwidthProbe probe = probe_read_bandwidth(*m.pool, po);
  r["membw_method"] = probe.method;
  r.update(decode_against_bandwidth(static_cast<double>(decoder.weight_bytes()), decode_tps, probe.gbps));
  return r;
}

}  // namespace qwen3vl
