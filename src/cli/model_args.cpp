#include "model_args.h"

#include <iostream>

#include "progress.h"
#include "qwen3vl/hub.h"

namespace qwen3vl::cli {

void add_model_options(Args& args) {
  args.value("-m,--model", "DIR|FILE",
             "checkpoint directory, model file from `qwen3vl quantize`, or owner/name[@revision] from the Hugging Face cache (pulled when missing; default: embedded tiny model)")
      .value("-t,--threads", "N", "threads (default: one per core)")
      .value("--quant", "auto|f32|bf16|q8|q4", "weight format of linear layers (default auto: as stored, f32 math)")
      .value("-c,--ctx", "N", "context length: KV cache capacity in tokens (default 4096)")
      .value("--kv-cache", "auto|f32|f16|bf16|q8", "KV cache element type (default auto: f32 with exact weights, f16 with --quant bf16/q8/q4)");
}

void add_generation_options(Args& args) {
  args.value("-n,--max-tokens", "N", "maximum tokens to generate (default 256)")
      .value("--temp,--temperature", "T", "sampling temperature; 0 = greedy (default from generation_config.json)")
      .value("--top-k", "K", "sample from the K most likely tokens")
      .value("--top-p", "P", "nucleus sampling threshold")
      .value("--min-p", "P", "drop tokens below P times the top probability")
      .value("--repeat-penalty,--repetition-penalty", "R", "penalise tokens already seen (1 = off)")
      .value("--presence-penalty", "X", "subtract X from tokens already generated")
      .value("--seed", "S", "random seed for sampling (default 0)")
      .value("--stop", "TEXT", "stop when TEXT is generated", true)
      .value("--image-min-tokens", "N", "lower bound of tokens per image (default from preprocessor_config.json)")
      .value("--image-max-tokens", "N", "upper bound of tokens per image (default from preprocessor_config.json)")
      .value("--max-image-pixels", "N", "refuse images whose header declares more pixels than N");
  add_video_options(args);
}

void add_video_options(Args& args) {
  args.value("--video-fps", "F", "frames sampled per second of each video (default from video_preprocessor_config.json: 2)")
      .value("--video-frames", "N", "sample N frames of each video instead of a rate")
      .flag("--video-outer-wrapper",
            "keep <|vision_start|>..<|vision_end|> around a video's frame blocks (transformers >= 5.10 form)");
}

VideoOptions video_options_from_args(const Args& args) {
  VideoOptions v;
  v.fps = args.get_double("video-fps", 0);
  v.num_frames = args.get_int64("video-frames", 0);
  v.keep_outer_wrapper = args.has("video-outer-wrapper");
  if (args.has("video-fps") && !(v.fps > 0)) throw Error("--video-fps must be positive");
  if (args.has("video-frames") && v.num_frames < 1) throw Error("--video-frames must be positive");
  if (args.has("video-fps") && args.has("video-frames"))
    throw Error("--video-fps and --video-frames are mutually exclusive");
  return v;
}

std::shared_ptr<Model> load_model_from_args(const Args& args, bool quiet) {
  LoadOptions opts;
  opts.threads = args.get_int("threads", 0);
  if (opts.threads < 0) throw Error("--threads must be positive");
  opts.weights = args.get("quant", "auto");
  opts.context_length = args.get_int64("ctx", 4096);
  if (opts.context_length <= 0) throw Error("--ctx must be positive");
  opts.kv_cache = args.get("kv-cache", "auto");
  ProgressBar bar("loading", !quiet);
  opts.progress = [&](const std::string&, double f) { bar.update(f); };
  std::shared_ptr<Model> model;
  if (args.has("model")) {
    // -m owner/name[@revision]: the Hugging Face cache (pulled when missing),
    // and with --quant a converted model file cached once per snapshot.
    TransferProgress pull_bar(!quiet);
    ProgressBar convert_bar("converting", !quiet);
    ResolveCallbacks callbacks;
    callbacks.pull_progress = [&](const PullProgress& p) {
      pull_bar.update(p.file, p.bytes, p.total);
      return true;
    };
    callbacks.convert_progress = [&](uint64_t done, uint64_t total) { convert_bar.update(double(done) / total, done); };
    if (!quiet) callbacks.notice = [](const std::string& text) { std::cerr << "qwen3vl: " << text << "\n"; };
    const ResolvedModel resolved =
        resolve_model(args.get("model"), opts.weights, HubSettings::from_environment(), callbacks);
    pull_bar.finish();
    convert_bar.finish();
    if (resolved.converted) opts.weights = "auto";
    model = Model::load(resolved.path, opts);
  } else {
    if (!quiet)
      std::cerr << "qwen3vl: no -m given, using the embedded tiny default model. Its weights are random, so its\n"
                   "words are noise. For real answers download a checkpoint (e.g. Qwen/Qwen3-VL-4B-Instruct from\n"
                   "Hugging Face) and run: qwen3vl run -m /path/to/Qwen3-VL-4B-Instruct --image photo.jpg -p \"...\"\n";
    model = Model::load_default(opts);
  }
  bar.finish();
  return model;
}

GenerateOptions generation_options_from_args(const Args& args) {
  GenerateOptions o;
  o.max_tokens = args.get_int("max-tokens", 256);
  if (o.max_tokens < 0) throw Error("--max-tokens must not be negative");
  auto& s = o.sampling;
  if (args.has("temp")) s.temperature = static_cast<float>(args.get_double("temp", 0));
  if (args.has("top-k")) s.top_k = args.get_int("top-k", 0);
  if (args.has("top-p")) s.top_p = static_cast<float>(args.get_double("top-p", 1));
  if (args.has("min-p")) s.min_p = static_cast<float>(args.get_double("min-p", 0));
  if (args.has("repeat-penalty")) s.repetition_penalty = static_cast<float>(args.get_double("repeat-penalty", 1));
  if (args.has("presence-penalty")) s.presence_penalty = static_cast<float>(args.get_double("presence-penalty", 0));
  s.seed = static_cast<uint64_t>(args.get_int64("seed", 0));
  o.stop = args.all("stop");
  o.image.min_tokens = args.get_int("image-min-tokens", 0);
  o.image.max_tokens = args.get_int("image-max-tokens", 0);
  o.image.max_input_pixels = args.get_int64("max-image-pixels", 0);
  if (o.image.min_tokens < 0 || o.image.max_tokens < 0) throw Error("image token bounds must be positive");
  o.video = video_options_from_args(args);
  return o;
}

}  // namespace qwen3vl::cli
