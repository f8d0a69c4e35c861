#include <filesystem>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/grounding.h"
#include "qwen3vl/runtime/messages.h"

namespace qwen3vl::cli {

namespace {

Json timings_json(const GenerationResult& r, double load_ms) {
  const auto& t = r.timings;
  const double decode_tps = t.decode_ms > 0 && r.output_ids.size() > 1
                                ? (r.output_ids.size() - 1) * 1000.0 / t.decode_ms : 0.0;
  return {{"load_ms", load_ms},
          {"image_decode_ms", t.image_decode_ms},
          {"video_decode_ms", t.video_decode_ms},
          {"preprocess_ms", t.preprocess_ms},
          {"vision_ms", t.vision_ms},
          {"prefill_ms", t.prefill_ms},
          {"decode_ms", t.decode_ms},
          {"ttft_ms", t.ttft_ms},
          {"prompt_tokens", r.prompt_ids.size()},
          {"image_tokens", r.image_tokens},
          {"video_tokens", r.video_tokens},
          {"reused_tokens", r.reused_tokens},
          {"prefilled_tokens", r.prefilled_tokens},
          {"generated_tokens", r.output_ids.size()},
          {"prefill_tps", t.prefill_ms > 0 ? r.prefilled_tokens * 1000.0 / t.prefill_ms : 0.0},
          {"decode_tps", decode_tps}};
}

}  // namespace

// Reads the messages of --messages FILE, or builds them from -p/--system/--image/--video.
Json messages_from_args(const Args& args, std::string* base_dir) {
  if (args.has("messages")) {
    if (args.has("prompt") || args.has("image") || args.has("video") || args.has("system"))
      throw Error("--messages cannot be combined with -p, --image, --video or --system");
    const std::string path = args.get("messages");
    Json m = path == "-" ? parse_json(std::string(std::istreambuf_iterator<char>(std::cin), {}), "stdin")
                         : load_json_file(path);
    if (path != "-") *base_dir = std::filesystem::absolute(path).parent_path().string();
    return m;
  }
  if (!args.has("prompt") && !args.has("image") && !args.has("video"))
    throw Error("give a prompt with -p TEXT (or --messages FILE)");
  return make_user_messages(args.get("system"), args.all("image"), args.get("prompt"), args.all("video"));
}

int run_command(int argc, char** argv) {
  Args args("run", "Answers a prompt about text, images and videos, streaming the answer to stdout.");
  add_model_options(args);
  args.value("-p,--prompt", "TEXT", "the user's message")
      .value("--image", "PATH", "an image (file or data: URI) placed before the prompt", true)
      .value("--video", "PATH", "a video file (any FFmpeg container/codec, or data: URI) placed before the prompt", true)
      .value("--system", "TEXT", "a system message")
      .value("--messages", "FILE", "a JSON array of chat messages (OpenAI style; - for stdin)");
  add_generation_options(args);
  args.flag("--json", "print one JSON object (prompt_ids, output_ids, text, timings) instead of streaming")
      .value("--draw-boxes", "OUT.png", "draw the boxes and points of a grounding answer on the (last) image and write a PNG")
      .flag("-v,--verbose", "print per-stage timings to stderr")
      .flag("-q,--quiet", "no notices or progress on stderr");
  if (!args.parse(argc, argv, 2)) return 0;
  const bool json = args.has("json"), verbose = args.has("verbose"), quiet = args.has("quiet");
  std::string base_dir;
  const Json messages = messages_from_args(args, &base_dir);
  const GenerateOptions options = generation_options_from_args(args);
  std::string draw_image;
  if (args.has("draw-boxes")) {
    for (const MediaReference& medium : normalize_messages(messages, base_dir).media)
      if (medium.kind == MediaKind::Image) draw_image = medium.source;
    if (draw_image.empty()) throw Error("--draw-boxes needs an image in the prompt to draw on");
  }
  auto model = load_model_from_args(args, quiet || json);
  Session session(model);
  if (!base_dir.empty()) session.set_base_dir(base_dir);
  std::function<bool(std::string_view)> stream;
  if (!json) stream = [](std::string_view piece) {
    std::cout << piece << std::flush;
    return true;
  };
  const GenerationResult r = session.generate(messages, options, stream);
  if (json) {
    Json out = {{"prompt_ids", r.prompt_ids}, {"output_ids", r.output_ids},    {"text", r.text},
                {"finish_reason", r.finish_reason}, {"timings", timings_json(r, model->load_ms())},
                {"model", model->is_default_model() ? "embedded-default (random weights)" : model->path()}};
    std::cout << out.dump(-1, ' ', false, Json::error_handler_t::replace) << "\n";
  } else {
    std::cout << "\n";
  }
  if (!draw_image.empty()) {
    const std::string out = args.get("draw-boxes");
    report_drawing(draw_grounding_answer(draw_image, r.text, out), out);
  }
  if (verbose) {
    if (!model->kernel_choices().empty()) std::cerr << "kernels: " << model->kernel_choices() << "\n";
    const Json t = timings_json(r, model->load_ms());
    std::cerr << "timings: load " << t["load_ms"].get<double>() << " ms, image decode "
              << t["image_decode_ms"].get<double>() << " ms, video decode " << t["video_decode_ms"].get<double>()
              << " ms, preprocess " << t["preprocess_ms"].get<double>()
              << " ms, vision encoder " << t["vision_ms"].get<double>() << " ms, prefill "
              << t["prefill_ms"].get<double>() << " ms (" << r.prompt_ids.size() << " tokens, "
              << t["prefill_tps"].get<double>() << " tok/s), decode " << t["decode_ms"].get<double>() << " ms ("
              << r.output_ids.size() << " tokens, " << t["decode_tps"].get<double>() << " tok/s), first token after "
              << t["ttft_ms"].get<double>() << " ms\n";
  }
  return 0;
}

}  // namespace qwen3vl::cli
