// WebP through libwebp. Pillow decodes to RGBA (non-premultiplied) and
// convert("RGB") drops alpha, which is exactly WebPDecodeRGB's output (same
// fancy upsampling for lossy files). Animated WebP is refused: libwebp's
// simple API decodes still images only.
#include <webp/decode.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl::image_detail {

namespace {

WebPBitstreamFeatures checked_features(const uint8_t* data, size_t size, const std::string& source,
                                       const DecodeLimits& limits) {
  WebPBitstreamFeatures features;
  if (WebPGetFeatures(data, size, &features) != VP8_STATUS_OK)
    throw Error(source + ": cannot decode WebP: invalid or truncated header");
  check_declared_size(features.width, features.height, source, limits);
  if (features.has_animation) throw Error(source + ": animated WebP is not supported");
  return features;
}

}  // namespace

ImageDimensions read_webp_header(const uint8_t* data, size_t size, const std::string& source,
                             const DecodeLimits& limits) {
  const WebPBitstreamFeatures features = checked_features(data, size, source, limits);
  return {features.width, features.height};
}

RgbImage decode_webp(const uint8_t* data, size_t size, const std::string& source,
                     const DecodeLimits& limits) {
  const WebPBitstreamFeatures features = checked_features(data, size, source, limits);
  RgbImage image(features.width, features.height);
  const int stride = features.width * 3;
  if (!WebPDecodeRGBInto(data, size, image.pixels.data(), image.pixels.size(), stride))
    throw Error(source + ": cannot decode WebP: corrupt or truncated data");
  return image;
}

}  // namespace qwen3vl::image_detail
