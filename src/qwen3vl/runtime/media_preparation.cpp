#include "qwen3vl/runtime/media_preparation.h"

#include <chrono>
#include <variant>

#include "qwen3vl/base/content_hash.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/runtime/video_preparation.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

// The encoded bytes of a medium: a data: URI's payload, or a mapped file.
class MediaBytes {
 public:
  MediaBytes(const std::string& source, const std::string& base_dir) {
    if (is_data_uri(source)) {
      DataUri uri = parse_data_uri(source);
      name_ = "data URI (" + uri.media_type + ")";
      bytes_ = std::move(uri.bytes);
      return;
    }
    std::string path = source;
    if (!base_dir.empty() && !path.empty() && path[0] != '/' && !file_exists(path)) path = base_dir + "/" + path;
    if (!file_exists(path)) throw Error(path + ": file not found");
    name_ = path;
    file_ = MappedFile(path);
    if (file_.size() == 0) throw Error(path + ": empty file");
  }

  const uint8_t* data() const { return bytes_.empty() ? file_.data() : bytes_.data(); }
  size_t size() const { return bytes_.empty() ? file_.size() : bytes_.size(); }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  std::vector<uint8_t> bytes_;
  MappedFile file_;
};

PreparedMedium prepare_image(const MediaReference& ref, const MediaPreparation& prep) {
  PreparedMedium m;
  m.kind = MediaKind::Image;
  auto t = Clock::now();
  const MediaBytes bytes(ref.source, prep.base_dir);
  m.content_hash = content_hash(bytes.data(), bytes.size());
  DecodeLimits decode_limits;
  if (prep.options.image.max_input_pixels > 0) decode_limits.max_pixels = prep.options.image.max_input_pixels;
  const RgbImage rgb = decode_image(bytes.data(), bytes.size(), bytes.name(), decode_limits);
  m.decode_ms = ms_since(t);

  t = Clock::now();
  ImageSizeLimits limits;
  limits.min_tokens = prep.options.image.min_tokens;
  limits.max_tokens = prep.options.image.max_tokens;
  PreprocessedImage pre = preprocess_image(rgb, prep.preprocessor, prep.pool, limits);
  m.grid = pre.grid;
  m.pixel_values = std::move(pre.pixel_values);
  // The pixels follow from the bytes, the model's preprocessor config and
  // the resolved pixel budget; the budget is the only per-request part.
  const PixelBounds bounds = resolve_pixel_bounds(prep.preprocessor, limits);
  m.options_key = "image:min_pixels=" + std::to_string(bounds.min_pixels) +
                  ",max_pixels=" + std::to_string(bounds.max_pixels);
  m.preprocess_ms = ms_since(t);
  return m;
}

}  // namespace

PreparedMedium prepare_medium(const MediaReference& reference, size_t index, const MediaPreparation& preparation) {
  const std::string what = std::string(media_kind_name(reference.kind)) + " " + std::to_string(index + 1);
  try {
    switch (reference.kind) {
      case MediaKind::Image: return prepare_image(reference, preparation);
      case MediaKind::Video: return prepare_video(reference, preparation);
    }
  } catch (const Error& e) {
    throw Error(what + ": " + e.what());
  }
  throw Error(what + ": unknown media kind");
}

}  // namespace qwen3vl
