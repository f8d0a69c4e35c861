// JPEG through libjpeg-turbo with the library defaults Pillow uses (ISLOW
// integer DCT, fancy chroma upsampling), so decoded pixels are bit-identical
// to Pillow built on the same libjpeg.
//
// libjpeg reports fatal errors by calling error_exit, whose default calls
// exit(). We replace it with a longjmp back into run_decoder(), which holds no
// C++ objects, and turn the failure into an Error in the caller. A truncated
// stream only produces a *warning* (libjpeg pads with a fake EOI and fills the
// rest grey); we treat that warning as fatal too, as Pillow does by default.
#include <csetjmp>
#include <algorithm>
#include <cstdio>  // jpeglib.h needs FILE
#include <memory>
#include <vector>

#include <jerror.h>
#include <jpeglib.h>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/exif_orientation.h"
#include "qwen3vl/image/image_decoders.h"

namespace qwen3vl::image_detail {

namespace {

// Standard-layout with the libjpeg manager first, so the jpeg_error_mgr*
// libjpeg hands to callbacks converts back to the whole bridge.
struct ErrorBridge {
  jpeg_error_mgr manager;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
};

struct JpegSession {
  jpeg_decompress_struct cinfo{};
  ErrorBridge error{};
  bool created = false;
  int orientation = 1;
  RgbImage image;
  std::vector<uint8_t> scanline;  // one row in the libjpeg output colour space
  ~JpegSession() {
    if (created) jpeg_destroy_decompress(&cinfo);
  }
};

ErrorBridge* bridge_of(j_common_ptr cinfo) { return reinterpret_cast<ErrorBridge*>(cinfo->err); }

void on_fatal_error(j_common_ptr cinfo) {
  ErrorBridge* b = bridge_of(cinfo);
  (*cinfo->err->format_message)(cinfo, b->message);
  std::longjmp(b->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level >= 0) return;  // trace messages
  // Warnings such as "extraneous bytes before marker" are tolerated (Pillow
  // ignores them); running out of data is not: the image would be partly grey.
  if (cinfo->err->msg_code == JWRN_JPEG_EOF) {
    ErrorBridge* b = bridge_of(cinfo);
    std::snprintf(b->message, sizeof(b->message), "truncated JPEG data (premature end of file)");
    std::longjmp(b->jump, 1);
  }
  cinfo->err->num_warnings++;
}

// Pillow's CMYK -> RGB: channel = clip(nk - nk*c/255) with nk = 255 - k and a
// rounded integer division by 255 (its MULDIV255 macro).
inline uint8_t cmyk_channel(int c, int nk) {
  const int t = c * nk + 128;
  const int product = ((t >> 8) + t) >> 8;
  const int v = nk - product;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Returns false with s->message set on failure. No C++ objects with
// destructors live in this frame, so longjmp-ing back here is well defined.
bool run_decoder(JpegSession* s, const uint8_t* data, size_t size, const DecodeLimits* limits,
                 bool* size_refused, bool header_only) {
  s->cinfo.err = jpeg_std_error(&s->error.manager);
  s->error.manager.error_exit = on_fatal_error;
  s->error.manager.emit_message = on_message;
  if (setjmp(s->error.jump)) return false;
  jpeg_create_decompress(&s->cinfo);
  s->created = true;
  jpeg_mem_src(&s->cinfo, data, static_cast<unsigned long>(size));
  jpeg_save_markers(&s->cinfo, JPEG_APP0 + 1, 0xFFFF);  // EXIF orientation
  jpeg_read_header(&s->cinfo, TRUE);
  for (jpeg_saved_marker_ptr m = s->cinfo.marker_list; m != nullptr; m = m->next) {
    if (m->marker != JPEG_APP0 + 1) continue;
    const int orientation = parse_exif_orientation(m->data, m->data_length);
    if (orientation != 1) {
      s->orientation = orientation;
      break;
    }
  }

  const int64_t width = s->cinfo.image_width, height = s->cinfo.image_height;
  if (width <= 0 || height <= 0 || width * height > limits->max_pixels) {
    *size_refused = true;
    return false;
  }
  if (header_only) return true;

  const J_COLOR_SPACE in_space = s->cinfo.jpeg_color_space;
  if (in_space == JCS_GRAYSCALE) {
    s->cinfo.out_color_space = JCS_GRAYSCALE;
  } else if (in_space == JCS_CMYK || in_space == JCS_YCCK) {
    s->cinfo.out_color_space = JCS_CMYK;
  } else {
    s->cinfo.out_color_space = JCS_RGB;
  }
  s->cinfo.dct_method = JDCT_ISLOW;
  s->cinfo.do_fancy_upsampling = TRUE;
  jpeg_start_decompress(&s->cinfo);

  const int components = s->cinfo.output_components;
  s->image = RgbImage(static_cast<int>(width), static_cast<int>(height));
  s->scanline.resize(static_cast<size_t>(width) * components);
  while (s->cinfo.output_scanline < s->cinfo.output_height) {
    const int y = static_cast<int>(s->cinfo.output_scanline);
    JSAMPROW row = s->scanline.data();
    if (jpeg_read_scanlines(&s->cinfo, &row, 1) != 1) {
      std::snprintf(s->error.message, sizeof(s->error.message), "JPEG decoder returned no scanline");
      return false;
    }
    uint8_t* out = s->image.row(y);
    const uint8_t* in = s->scanline.data();
    if (components == 3) {
      std::copy(in, in + width * 3, out);
    } else if (components == 1) {
      for (int64_t x = 0; x < width; ++x) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = in[x];
    } else {
      // Pillow assumes Adobe's inverted CMYK for every 4-channel JPEG, so it
      // inverts the stored values before its CMYK -> RGB conversion.
      for (int64_t x = 0; x < width; ++x) {
        const uint8_t* p = in + 4 * x;
        const int nk = p[3];  // 255 - (255 - stored k)
        out[3 * x + 0] = cmyk_channel(255 - p[0], nk);
        out[3 * x + 1] = cmyk_channel(255 - p[1], nk);
        out[3 * x + 2] = cmyk_channel(255 - p[2], nk);
      }
    }
  }
  // jpeg_finish_decompress is not called: it insists on an EOI marker, which
  // Pillow does not require once all scans are decoded.
  return true;
}

// Runs the decoder (or only its header part) and turns failures into Error.
std::unique_ptr<JpegSession> run_checked(const uint8_t* data, size_t size, const std::string& source,
                                         const DecodeLimits& limits, bool header_only) {
  auto session = std::make_unique<JpegSession>();
  bool size_refused = false;
  if (!run_decoder(session.get(), data, size, &limits, &size_refused, header_only)) {
    if (size_refused)
      check_declared_size(session->cinfo.image_width, session->cinfo.image_height, source, limits);
    throw Error(source + ": cannot decode JPEG: " + session->error.message);
  }
  return session;
}

}  // namespace

RgbImage decode_jpeg(const uint8_t* data, size_t size, const std::string& source,
                     const DecodeLimits& limits) {
  const auto session = run_checked(data, size, source, limits, false);
  if (session->orientation != 1) return apply_exif_orientation(session->image, session->orientation);
  return std::move(session->image);
}

ImageDimensions read_jpeg_header(const uint8_t* data, size_t size, const std::string& source,
                             const DecodeLimits& limits) {
  const auto session = run_checked(data, size, source, limits, true);
  const int width = static_cast<int>(session->cinfo.image_width);
  const int height = static_cast<int>(session->cinfo.image_height);
  // Orientations 5 to 8 turn the picture a quarter: width and height swap.
  if (session->orientation >= 5 && session->orientation <= 8) return {height, width};
  return {width, height};
}

}  // namespace qwen3vl::image_detail
