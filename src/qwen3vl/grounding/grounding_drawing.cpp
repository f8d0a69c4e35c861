#include "qwen3vl/grounding/grounding_drawing.h"

#include <cairo.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

// Distinct, saturated colours that stay visible on photos.
constexpr Rgb8 kPalette[] = {{230, 25, 75},  {60, 180, 75},  {255, 225, 25}, {0, 130, 200},
                             {245, 130, 48}, {145, 30, 180}, {70, 240, 240}, {240, 50, 230},
                             {210, 245, 60}, {0, 128, 128},  {170, 110, 40}, {128, 0, 0}};
constexpr size_t kPaletteSize = sizeof(kPalette) / sizeof(kPalette[0]);

using Surface = std::unique_ptr<cairo_surface_t, decltype(&cairo_surface_destroy)>;
using Context = std::unique_ptr<cairo_t, decltype(&cairo_destroy)>;

void set_colour(cairo_t* cr, Rgb8 c, double alpha = 1.0) {
  cairo_set_source_rgba(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0, alpha);
}

// A filled tag with the label in white (or black on light colours), placed
// above (x, y) when there is room, else just below.
void draw_label(cairo_t* cr, const std::string& text, double x, double y, Rgb8 colour, double font_size,
                int width, int height) {
  cairo_select_font_face(cr, "DejaVu Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
  cairo_set_font_size(cr, font_size);
  cairo_text_extents_t ext;
  cairo_text_extents(cr, text.c_str(), &ext);
  const double pad = font_size * 0.25;
  const double box_w = ext.x_advance + 2 * pad, box_h = font_size + 2 * pad;
  double top = y - box_h;
  if (top < 0) top = y;
  const double left = std::clamp(x, 0.0, std::max(0.0, width - box_w));
  top = std::clamp(top, 0.0, std::max(0.0, height - box_h));
  set_colour(cr, colour);
  cairo_rectangle(cr, left, top, box_w, box_h);
  cairo_fill(cr);
  const bool light = colour.r * 299 + colour.g * 587 + colour.b * 114 > 150000;
  cairo_set_source_rgb(cr, light ? 0 : 1, light ? 0 : 1, light ? 0 : 1);
  cairo_move_to(cr, left + pad - ext.x_bearing, top + pad + font_size * 0.8);
  cairo_show_text(cr, text.c_str());
}

}  // namespace

std::vector<Rgb8> grounding_colours(const std::vector<GroundingItem>& items) {
  std::map<std::string, size_t> index;
  std::vector<Rgb8> colours;
  for (const auto& it : items) {
    const auto found = index.emplace(it.label, index.size()).first;
    colours.push_back(kPalette[found->second % kPaletteSize]);
  }
  return colours;
}

RgbImage draw_grounding(const RgbImage& image, const std::vector<GroundingItem>& items, const GroundingStyle& style) {
  const int w = image.width, h = image.height;
  check(w > 0 && h > 0, "cannot draw on an empty image");
  Surface surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h), cairo_surface_destroy);
  check(cairo_surface_status(surface.get()) == CAIRO_STATUS_SUCCESS,
        "cannot allocate a " + std::to_string(w) + "x" + std::to_string(h) + " drawing surface");
  // RGB24 keeps each pixel in a native-endian uint32 0x00RRGGBB.
  uint8_t* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  cairo_surface_flush(surface.get());
  for (int y = 0; y < h; ++y) {
    auto* dst = reinterpret_cast<uint32_t*>(data + static_cast<size_t>(y) * stride);
    const uint8_t* src = image.row(y);
    for (int x = 0; x < w; ++x)
      dst[x] = (uint32_t(src[3 * x]) << 16) | (uint32_t(src[3 * x + 1]) << 8) | src[3 * x + 2];
  }
  cairo_surface_mark_dirty(surface.get());

  Context cr(cairo_create(surface.get()), cairo_destroy);
  const double shorter = std::min(w, h);
  const double line = style.line_width > 0 ? style.line_width : std::max(2.0, std::round(shorter * 0.004));
  const double font_size = std::max(10.0, std::round(shorter * 0.03));
  const std::vector<Rgb8> colours = grounding_colours(items);
  cairo_set_line_join(cr.get(), CAIRO_LINE_JOIN_MITER);
  for (size_t i = 0; i < items.size(); ++i) {
    const GroundingItem& it = items[i];
    if (it.kind == GroundingItem::Kind::Box) {
      double x1 = grounding_to_pixels(it.coords[0], w), y1 = grounding_to_pixels(it.coords[1], h);
      double x2 = grounding_to_pixels(it.coords[2], w), y2 = grounding_to_pixels(it.coords[3], h);
      if (x2 < x1) std::swap(x1, x2);
      if (y2 < y1) std::swap(y1, y2);
      set_colour(cr.get(), colours[i]);
      cairo_set_line_width(cr.get(), line);
      // The stroke is centred on the box edge.
      cairo_rectangle(cr.get(), x1, y1, x2 - x1, y2 - y1);
      cairo_stroke(cr.get());
      if (style.labels && !it.label.empty())
        draw_label(cr.get(), it.label, x1 - line / 2, y1 - line / 2, colours[i], font_size, w, h);
    } else {
      const double x = grounding_to_pixels(it.coords[0], w), y = grounding_to_pixels(it.coords[1], h);
      const double radius = std::max(3.0, line * 2.5);
      cairo_arc(cr.get(), x, y, radius, 0, 2 * M_PI);
      set_colour(cr.get(), colours[i]);
      cairo_fill_preserve(cr.get());
      cairo_set_source_rgb(cr.get(), 1, 1, 1);
      cairo_set_line_width(cr.get(), std::max(1.0, line / 2));
      cairo_stroke(cr.get());
      if (style.labels && !it.label.empty())
        draw_label(cr.get(), it.label, x + radius, y - radius, colours[i], font_size, w, h);
    }
  }
  cairo_surface_flush(surface.get());

  RgbImage out(w, h);
  for (int y = 0; y < h; ++y) {
    const auto* src = reinterpret_cast<const uint32_t*>(data + static_cast<size_t>(y) * stride);
    uint8_t* dst = out.row(y);
    for (int x = 0; x < w; ++x) {
      dst[3 * x] = uint8_t(src[x] >> 16);
      dst[3 * x + 1] = uint8_t(src[x] >> 8);
      dst[3 * x + 2] = uint8_t(src[x]);
    }
  }
  return out;
}

}  // namespace qwen3vl
