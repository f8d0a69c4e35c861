#include "qwen3vl/runtime/video_preparation.h"

#include <chrono>
#include <cstdio>

#include "qwen3vl/base/content_hash.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/video/frame_source.h"
#include "qwen3vl/video/video_preprocess.h"
#include "qwen3vl/video/video_prompt.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string hash_of_file(const std::string& path) {
  if (!file_exists(path)) throw Error(path + ": file not found");
  const MappedFile file(path);
  if (file.size() == 0) throw Error(path + ": empty file");
  return content_hash(file.data(), file.size());
}

// The request's sampling: a part's own "fps" / "num_frames", else the
// request-wide options (not for frame lists: they are used as given, and a
// request-wide rate should not make them fail), else the model's video
// processor config.
FrameSamplingRequest sampling_of(const Json& part, const VideoOptions& options, bool frame_list) {
  FrameSamplingRequest r;
  if (part.contains("fps") && !part["fps"].is_null()) {
    if (!part["fps"].is_number()) throw Error("\"fps\" must be a number");
    r.fps = part["fps"].get<double>();
  }
  if (part.contains("num_frames") && !part["num_frames"].is_null()) {
    if (!part["num_frames"].is_number_integer()) throw Error("\"num_frames\" must be an integer");
    r.num_frames = part["num_frames"].get<int64_t>();
  }
  if (r.fps && r.num_frames) throw Error("\"fps\" and \"num_frames\" are mutually exclusive; give one of them");
  if (!r.fps && !r.num_frames && !frame_list) {
    if (options.fps > 0) r.fps = options.fps;
    else if (options.num_frames > 0) r.num_frames = options.num_frames;
  }
  return r;
}

}  // namespace

PreparedMedium prepare_video(const MediaReference& ref, const MediaPreparation& prep) {
  PreparedMedium m;
  m.kind = MediaKind::Video;
  const VideoProcessorConfig& config = prep.video_processor;
  const VideoOptions& options = prep.options.video;
  VideoDecodeLimits limits;
  if (options.max_frame_pixels > 0) limits.max_frame_pixels = options.max_frame_pixels;

  // 1. Open and read metadata only (and the content hash for the caches).
  auto t = Clock::now();
  // Paths arrive resolved (normalize_messages: file: URLs, base directory).
  std::shared_ptr<FrameSource> source;
  const Json& video = ref.part.contains("video") ? ref.part["video"] : Json();
  if (video.is_array()) {
    std::vector<std::string> paths;
    std::string hashes;
    for (const Json& p : video) {
      const std::string path = p.get<std::string>();
      hashes += hash_of_file(path);
      paths.push_back(path);
    }
    m.content_hash = content_hash(hashes.data(), hashes.size());
    source = open_frame_list(paths, limits);
  } else if (is_data_uri(ref.source)) {
    DataUri uri = parse_data_uri(ref.source);
    m.content_hash = content_hash(uri.bytes.data(), uri.bytes.size());
    source = open_video_memory(std::move(uri.bytes), "data URI (" + uri.media_type + ")", limits);
  } else {
    const std::string& path = ref.source;
    m.content_hash = hash_of_file(path);
    source = open_video_file(path, limits);
  }
  const FrameSamplingRequest sampling = sampling_of(ref.part, options, video.is_array());
  const VideoPlan plan = plan_video(source->info(), sampling, config);
  m.decode_ms = ms_since(t);

  // 2. The token cost is known: refuse what cannot fit before decoding.
  if (prep.context_tokens > 0 && plan.tokens() >= prep.context_tokens)
    throw Error(source->info().description + ": " + std::to_string(plan.frame_indices.size()) + " sampled frames make " +
                std::to_string(plan.tokens()) + " tokens, more than the context of " +
                std::to_string(prep.context_tokens) +
                " (sample fewer frames with \"fps\" / \"num_frames\" or --video-fps, or raise --ctx)");

  // 3. Decoding the sampled frames and preprocessing them waits until the
  // whole prompt is known to fit (load_medium_pixels).
  m.grid = VisionGrid{plan.grid_t, plan.grid_h, plan.grid_w};
  m.load_pixels = [source, plan, &config, &prep](PreparedMedium& self) {
    const auto t0 = Clock::now();
    PreprocessedVideo pre = preprocess_video(*source, plan, config, prep.pool);
    // Frame decoding is reported apart from resizing and normalising (they interleave per frame).
    self.decode_ms += pre.decode_ms;
    self.preprocess_ms += ms_since(t0) - pre.decode_ms;
    self.pixel_values = std::move(pre.pixel_values);
  };
  m.placeholder_text = video_prompt_text(plan.timestamps);
  if (options.keep_outer_wrapper) m.placeholder_text = "<|vision_start|>" + m.placeholder_text + "<|vision_end|>";
  // The pixels follow from the bytes, the sampled frames and the pixel budget.
  std::string key = "video:frames=";
  for (size_t i = 0; i < plan.frame_indices.size(); ++i) key += (i ? "," : "") + std::to_string(plan.frame_indices[i]);
  key += ";size=" + std::to_string(plan.resized.width) + "x" + std::to_string(plan.resized.height);
  m.options_key = key;
  return m;
}

}  // namespace qwen3vl
