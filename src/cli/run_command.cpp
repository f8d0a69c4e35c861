#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/base/human_format.h"
#include "qwen3vl/base/regular_file.h"
#include "qwen3vl/grounding.h"
#include "qwen3vl/runtime/messages.h"
#include "standard_output.h"

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

std::string rate(double tokens_per_second) {
  return format_number(static_cast<double>(static_cast<int64_t>(tokens_per_second * 10 + 0.5)) / 10) + " tok/s";
}

void print_timings(const GenerationResult& r, double load_ms) {
  const auto& t = r.timings;
  const Json j = timings_json(r, load_ms);
  std::cerr << "timings: load " << format_duration_ms(load_ms) << ", image decode "
            << format_duration_ms(t.image_decode_ms) << ", video decode " << format_duration_ms(t.video_decode_ms)
            << ", preprocess " << format_duration_ms(t.preprocess_ms)
            << ", vision encoder " << format_duration_ms(t.vision_ms) << ", prefill "
            << format_duration_ms(t.prefill_ms) << " (" << r.prompt_ids.size() << " tokens, "
            << rate(j["prefill_tps"].get<double>()) << "), decode " << format_duration_ms(t.decode_ms) << " ("
            << r.output_ids.size() << " tokens, " << rate(j["decode_tps"].get<double>()) << "), first token after "
            << format_duration_ms(t.ttft_ms) << "\n";
}

// Why the answer ended early, when it did not end by itself.
void print_finish_note(const GenerationResult& r, const GenerateOptions& options, const Model& model) {
  if (r.finish_reason == "context_full")
    std::cerr << "qwen3vl: note: the answer stopped because the context of "
              << model.load_options().context_length << " tokens is full (raise --ctx)\n";
  else if (r.finish_reason == "length")
    std::cerr << "qwen3vl: note: the answer stopped at -n " << options.max_tokens << " tokens (raise -n)\n";
}

}  // namespace

// Reads the messages of --messages FILE, or builds them from -p/--system/--image/--video.
Json messages_from_args(const Args& args, std::string* base_dir) {
  if (args.has("messages")) {
    if (args.has("prompt") || args.has("image") || args.has("video") || args.has("system"))
      args.fail("--messages cannot be combined with -p, --image, --video or --system");
    const std::string path = args.get("messages");
    if (path == "-") return parse_json(read_descriptor(STDIN_FILENO, "stdin"), "stdin");
    Json m = load_json_file(path);
    // Relative image paths in the file are relative to the file, wherever
    // qwen3vl runs from.
    *base_dir = std::filesystem::absolute(path).parent_path().string();
    return m;
  }
  if (!args.has("prompt") && !args.has("image") && !args.has("video"))
    args.fail("give a prompt with -p TEXT (or --messages FILE)");
  return make_user_messages(args.get("system"), args.all("image"), args.get("prompt"), args.all("video"));
}

int run_command(int argc, char** argv) {
  Args args("run",
            "Answers a prompt about text, images and videos, streaming the answer to stdout.\n"
            "\n"
            "Images: JPEG, PNG, WebP (still), GIF (first frame) and BMP, recognised by their content; paths,\n"
            "file:// URLs or data: URIs (base64). Relative media paths in a --messages file resolve against\n"
            "the file's directory (against the working directory for --image, --video and --messages -). An\n"
            "image whose header declares more than --max-image-pixels pixels is refused before decoding, and\n"
            "a prompt whose media (priced from headers and metadata) cannot fit --ctx before any decoding.");
  add_model_options(args);
  args.value("-p,--prompt", "TEXT", "the user's message")
      .value("--image", "PATH", "an image (file, file:// URL or data: URI) placed before the prompt", true)
      .value("--video", "PATH", "a video file (any FFmpeg container/codec, or data: URI) placed before the prompt", true)
      .value("--system", "TEXT", "a system message")
      .value("--messages", "FILE", "a JSON array of chat messages (OpenAI style; - for stdin)");
  add_generation_options(args);
  args.flag("--json", "print one JSON object (prompt_ids, output_ids, text, finish_reason, timings) instead of streaming")
      .value("--draw-boxes", "OUT.png", "draw the boxes and points of a grounding answer on the (last) image and write a PNG")
      .flag("-v,--verbose", "print per-stage timings to stderr")
      .flag("-q,--quiet", "no notices or progress on stderr");
  if (!args.parse(argc, argv, 2)) return 0;
  const bool json = args.has("json"), verbose = args.has("verbose"), quiet = args.has("quiet");
  std::string base_dir;
  const GenerateOptions options = generation_options_from_args(args);
  const Json messages = messages_from_args(args, &base_dir);
  // Malformed messages fail before the model loads.
  const auto media = normalize_messages(messages, base_dir).media;
  std::string draw_image;
  if (args.has("draw-boxes")) {
    for (const MediaReference& m : media)
      if (m.kind == MediaKind::Image) draw_image = m.source;
    if (draw_image.empty()) args.fail("--draw-boxes needs an image in the prompt to draw on");
  }
  auto model = load_model_from_args(args, quiet || json);
  Session session(model);
  if (!base_dir.empty()) session.set_base_dir(base_dir);
  std::function<bool(std::string_view)> stream;
  if (!json) stream = write_standard_output;
  const GenerationResult r = session.generate(messages, options, stream);
  if (json) {
    Json out = {{"prompt_ids", r.prompt_ids}, {"output_ids", r.output_ids},    {"text", r.text},
                {"finish_reason", r.finish_reason}, {"timings", timings_json(r, model->load_ms())},
                {"model", model->is_default_model() ? "embedded-default (random weights)" : model->path()}};
    write_standard_output(out.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n");
  } else {
    write_standard_output("\n");
  }
  finish_standard_output();
  if (!draw_image.empty()) {
    const std::string out = args.get("draw-boxes");
    report_drawing(draw_grounding_answer(draw_image, r.text, out), out);
  }
  if (!quiet && !json) print_finish_note(r, options, *model);
  if (verbose) {
    if (!model->kernel_choices().empty()) std::cerr << "kernels: " << model->kernel_choices() << "\n";
    print_timings(r, model->load_ms());
  }
  return 0;
}

}  // namespace qwen3vl::cli
