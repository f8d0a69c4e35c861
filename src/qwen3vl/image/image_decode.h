// Image decoding to RGB the way the Hugging Face Qwen2-VL processor sees
// images: Pillow opens the file and Image.convert("RGB") turns it into 8-bit
// RGB. That conversion DROPS alpha (no compositing onto white), replicates
// grey, and expands palettes; we do the same.
//
// The format comes from the leading magic bytes, never from a file extension.
// Supported: JPEG (libjpeg-turbo, default ISLOW DCT and fancy upsampling as
// Pillow uses; CMYK/YCCK converted with Pillow's formula), PNG (all bit depths
// and colour types; 16-bit samples keep their high byte as Pillow's
// "RGB;16B"/"RGBA;16B" unpackers do), WebP (libwebp, alpha dropped), GIF (first
// frame, palette expanded) and uncompressed BMP (1/4/8/24/32-bit).
//
// Known deviations from Pillow, chosen on purpose:
// - 16-bit greyscale PNG: Pillow loads it as a 32-bit integer image and
//   convert("RGB") clamps values above 255, turning almost every pixel white.
//   We keep the high byte instead, as for the other 16-bit types.
// - JPEG EXIF orientation IS applied, as transformers.image_utils.load_image
//   (exif_transpose) does for paths, URLs and base64; Image.open alone would
//   not. EXIF in PNG/WebP is not read.
// - GIF: only the first frame; pixels outside it take the background colour.
//
// Every failure is an Error naming the source: unknown format, truncated or
// corrupt data (a truncated JPEG is an error, not a grey tail), zero sizes,
// and images whose header declares more than DecodeLimits::max_pixels pixels,
// which are refused BEFORE any pixel memory is allocated (decompression bombs).
// No codec can terminate the process: libjpeg/libpng errors unwind through
// setjmp/longjmp inside the decoder and come out as Error.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "qwen3vl/base/mapped_file.h"
#include "qwen3vl/image/rgb_image.h"

namespace qwen3vl {

enum class ImageFormat { Unknown, Jpeg, Png, WebP, Gif, Bmp };

const char* image_format_name(ImageFormat f);

// Looks only at the first bytes.
ImageFormat detect_image_format(const uint8_t* data, size_t size);

struct DecodeLimits {
  // Largest accepted width*height, checked against the header before decoding.
  // Default: 2 * 89,478,485 = 178,956,970, the point where Pillow raises
  // DecompressionBombError (it only warns between 1x and 2x MAX_IMAGE_PIXELS),
  // so every image the reference processor accepts is accepted here too.
  int64_t max_pixels = 178956970;
};

// Width and height of an image as its decoder returns it (a JPEG's EXIF
// rotation applied), read from the header alone.
struct ImageDimensions {
  int width = 0;
  int height = 0;
};

// Decodes an in-memory encoded image. `source` names it in error messages.
RgbImage decode_image(const uint8_t* data, size_t size, const std::string& source,
                      const DecodeLimits& limits = {});

// The header of an in-memory encoded image: format, dimensions and the pixel
// limit checked without decoding a pixel (so an image's token count is known
// before any decode or resize work). Throws the Error decode_image would
// for a bad or oversized header.
ImageDimensions read_image_header(const uint8_t* data, size_t size, const std::string& source,
                                  const DecodeLimits& limits = {});

// An image named by a path, a file:// path already resolved, or a data: URI:
// its encoded bytes (a file is mapped, not read; a data URI decoded once) and
// its header. Opening never blocks and refuses anything but a regular file.
class EncodedImage {
 public:
  EncodedImage(std::string_view path_or_data_uri, const DecodeLimits& limits = {});
  EncodedImage(EncodedImage&&) noexcept = default;
  EncodedImage& operator=(EncodedImage&&) noexcept = default;

  const ImageDimensions& dimensions() const { return dimensions_; }
  const std::string& source() const { return source_; }  // names it in errors
  // The encoded bytes (for content hashing).
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }
  // Decodes the pixels (the header was checked already).
  RgbImage decode() const;

 private:
  std::string source_;
  MappedFile file_;
  std::vector<uint8_t> bytes_;  // a data URI's payload
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
  DecodeLimits limits_;
  ImageDimensions dimensions_;
};

// Reads and decodes a file (the path names it in errors).
RgbImage load_image_file(const std::string& path, const DecodeLimits& limits = {});

// Accepts either a `data:image/...;base64,...` URI or a file path.
RgbImage load_image(std::string_view path_or_data_uri, const DecodeLimits& limits = {});

}  // namespace qwen3vl
