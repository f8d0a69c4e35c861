#include "qwen3vl/base/human_format.h"

#include <cstdio>

namespace qwen3vl {

namespace {

// Three significant digits for values from 1 to 999.
std::string three_digits(double v, const char* unit) {
  char buffer[48];
  const char* format = v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s";
  std::snprintf(buffer, sizeof(buffer), format, v, unit);
  return buffer;
}

}  // namespace

std::string format_bytes(uint64_t bytes) {
  if (bytes < 1000) return std::to_string(bytes) + " B";
  const char* units[] = {"kB", "MB", "GB", "TB", "PB"};
  double v = static_cast<double>(bytes) / 1000.0;
  int u = 0;
  // 999.96 kB would print as "1000 kB": move up a unit before rounding does.
  while (v >= 999.5 && u < 4) {
    v /= 1000.0;
    ++u;
  }
  return three_digits(v, units[u]);
}

std::string format_duration_ms(double ms) {
  if (ms < 999.5) return three_digits(ms < 0 ? 0 : ms, "ms");
  const double s = ms / 1000.0;
  if (s < 999.5) return three_digits(s, "s");
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%.0f s", s);
  return buffer;
}

std::string format_number(double value) {
  char buffer[48];
  std::snprintf(buffer, sizeof(buffer), "%g", value);
  return buffer;
}

std::string format_count(int64_t value) {
  const std::string digits = std::to_string(value < 0 ? -value : value);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return value < 0 ? "-" + out : out;
}

}  // namespace qwen3vl
