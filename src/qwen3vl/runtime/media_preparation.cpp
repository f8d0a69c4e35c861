#include "qwen3vl/runtime/media_preparation.h"

#include <chrono>
#include <memory>

#include "qwen3vl/base/content_hash.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decode.h"
#include "qwen3vl/image/preprocess.h"
#include "qwen3vl/runtime/video_preparation.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

std::string medium_name(MediaKind kind, size_t index) {
  return std::string(media_kind_name(kind)) + " " + std::to_string(index + 1);
}

PreparedMedium prepare_image(const MediaReference& ref, const MediaPreparation& prep) {
  PreparedMedium m;
  m.kind = MediaKind::Image;
  const auto t = Clock::now();
  DecodeLimits decode_limits;
  if (prep.options.image.max_input_pixels > 0) decode_limits.max_pixels = prep.options.image.max_input_pixels;
  // Maps the file (or decodes the data URI's base64) and reads the header:
  // the pixel cap is checked here, before any pixel is decoded.
  auto encoded = std::make_shared<const EncodedImage>(ref.source, decode_limits);
  m.content_hash = content_hash(encoded->data(), encoded->size());
  ImageSizeLimits limits;
  limits.min_tokens = prep.options.image.min_tokens;
  limits.max_tokens = prep.options.image.max_tokens;
  const ImageDimensions size = encoded->dimensions();
  m.grid = image_grid_for(size.height, size.width, prep.preprocessor, limits);
  // The pixels follow from the bytes, the model's preprocessor config and
  // the resolved pixel budget; the budget is the only per-request part.
  const PixelBounds bounds = resolve_pixel_bounds(prep.preprocessor, limits);
  m.options_key = "image:min_pixels=" + std::to_string(bounds.min_pixels) +
                  ",max_pixels=" + std::to_string(bounds.max_pixels);
  m.decode_ms = ms_since(t);

  m.load_pixels = [encoded, &prep, limits](PreparedMedium& self) {
    auto t0 = Clock::now();
    const RgbImage rgb = encoded->decode();
    self.decode_ms += ms_since(t0);
    t0 = Clock::now();
    PreprocessedImage pre = preprocess_image(rgb, prep.preprocessor, prep.pool, limits);
    // The token count the prompt was laid out with came from the header.
    check(pre.grid == self.grid, "the decoded image's grid differs from the one its header gave");
    self.pixel_values = std::move(pre.pixel_values);
    self.preprocess_ms += ms_since(t0);
  };
  return m;
}

}  // namespace

PreparedMedium prepare_medium(const MediaReference& reference, size_t index, const MediaPreparation& preparation) {
  const std::string what = medium_name(reference.kind, index);
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

void load_medium_pixels(PreparedMedium& medium, size_t index) {
  if (!medium.load_pixels) return;
  try {
    medium.load_pixels(medium);
  } catch (const Error& e) {
    throw Error(medium_name(medium.kind, index) + ": " + e.what());
  }
  medium.load_pixels = nullptr;  // drops the mapped file or payload
}

}  // namespace qwen3vl
