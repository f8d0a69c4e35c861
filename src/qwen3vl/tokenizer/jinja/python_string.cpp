#include "qwen3vl/tokenizer/jinja/python_string.h"

#include <utf8proc.h>

#include <algorithm>

#include "qwen3vl/tokenizer/jinja/failure.h"

namespace qwen3vl::jinja {

uint32_t decode_utf8_at(const std::string& s, size_t& i) {
  unsigned char lead = static_cast<unsigned char>(s[i]);
  int extra = lead >= 0xF8 ? -1 : lead >= 0xF0 ? 3 : lead >= 0xE0 ? 2 : lead >= 0xC0 ? 1 : 0;
  if (extra <= 0 || i + static_cast<size_t>(extra) >= s.size()) {
    ++i;  // ASCII, a stray continuation byte, or a truncated sequence
    return lead;
  }
  uint32_t code = lead & (0x3Fu >> extra);
  for (int k = 1; k <= extra; ++k) {
    unsigned char next = static_cast<unsigned char>(s[i + k]);
    if ((next & 0xC0) != 0x80) {
      ++i;
      return lead;
    }
    code = (code << 6) | (next & 0x3Fu);
  }
  i += static_cast<size_t>(extra) + 1;
  return code;
}

std::vector<uint32_t> utf8_to_code_points(const std::string& s) {
  std::vector<uint32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) out.push_back(decode_utf8_at(s, i));
  return out;
}

void append_utf8(std::string& out, uint32_t c) {
  if (c < 0x80) {
    out += static_cast<char>(c);
  } else if (c < 0x800) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else if (c < 0x10000) {
    out += static_cast<char>(0xE0 | (c >> 12));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (c >> 18));
    out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (c & 0x3F));
  }
}

std::string code_points_to_utf8(const std::vector<uint32_t>& code_points) {
  std::string out;
  out.reserve(code_points.size());
  for (uint32_t c : code_points) append_utf8(out, c);
  return out;
}

size_t python_length(const std::string& s) {
  size_t count = 0, i = 0;
  while (i < s.size()) {
    decode_utf8_at(s, i);
    ++count;
  }
  return count;
}

bool python_is_space(uint32_t c) {
  if (c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F) || c == 0x85) return true;
  if (c < 0x80) return false;
  auto category = utf8proc_category(static_cast<utf8proc_int32_t>(c));
  return category == UTF8PROC_CATEGORY_ZS || category == UTF8PROC_CATEGORY_ZL || category == UTF8PROC_CATEGORY_ZP;
}

std::vector<size_t> slice_indices(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  int64_t step) {
  if (step == 0) throw Failure("slice step cannot be zero");
  const int64_t n = static_cast<int64_t>(length);
  auto clamp = [&](std::optional<int64_t> index, int64_t default_value, int64_t low, int64_t high) {
    if (!index) return default_value;
    int64_t v = *index;
    if (v < 0) v += n;
    return std::clamp(v, low, high);
  };
  std::vector<size_t> out;
  if (step > 0) {
    int64_t first = clamp(start, 0, 0, n), last = clamp(stop, n, 0, n);
    for (int64_t k = first; k < last; k += step) out.push_back(static_cast<size_t>(k));
  } else {
    int64_t first = clamp(start, n - 1, -1, n - 1), last = clamp(stop, -1, -1, n - 1);
    for (int64_t k = first; k > last; k += step) out.push_back(static_cast<size_t>(k));
  }
  return out;
}

std::string python_strip(const std::string& s, const std::optional<std::string>& chars, StripSide side) {
  std::vector<uint32_t> text = utf8_to_code_points(s);
  std::vector<uint32_t> set;
  if (chars) set = utf8_to_code_points(*chars);
  auto strippable = [&](uint32_t c) {
    return chars ? std::find(set.begin(), set.end(), c) != set.end() : python_is_space(c);
  };
  size_t begin = 0, end = text.size();
  if (side != StripSide::Right)
    while (begin < end && strippable(text[begin])) ++begin;
  if (side != StripSide::Left)
    while (end > begin && strippable(text[end - 1])) --end;
  return code_points_to_utf8(std::vector<uint32_t>(text.begin() + begin, text.begin() + end));
}

namespace {

// Whitespace-run splitting (sep=None) from the left, over code points.
std::vector<std::string> split_whitespace(const std::vector<uint32_t>& text, int64_t max_split) {
  std::vector<std::string> parts;
  size_t i = 0, n = text.size();
  int64_t splits = 0;
  while (true) {
    while (i < n && python_is_space(text[i])) ++i;
    if (i >= n) break;
    if (max_split >= 0 && splits >= max_split) {
      parts.push_back(code_points_to_utf8(std::vector<uint32_t>(text.begin() + i, text.end())));
      break;
    }
    size_t j = i;
    while (j < n && !python_is_space(text[j])) ++j;
    parts.push_back(code_points_to_utf8(std::vector<uint32_t>(text.begin() + i, text.begin() + j)));
    ++splits;
    i = j;
  }
  return parts;
}

}  // namespace

std::vector<std::string> python_split(const std::string& s, const std::optional<std::string>& separator,
                                      int64_t max_split) {
  if (!separator) return split_whitespace(utf8_to_code_points(s), max_split);
  if (separator->empty()) throw Failure("split: empty separator");
  std::vector<std::string> parts;
  size_t position = 0;
  int64_t splits = 0;
  while (max_split < 0 || splits < max_split) {
    size_t found = s.find(*separator, position);
    if (found == std::string::npos) break;
    parts.push_back(s.substr(position, found - position));
    position = found + separator->size();
    ++splits;
  }
  parts.push_back(s.substr(position));
  return parts;
}

std::vector<std::string> python_rsplit(const std::string& s, const std::optional<std::string>& separator,
                                       int64_t max_split) {
  if (!separator) {
    // Split the reversed text from the left, then reverse everything back.
    std::vector<uint32_t> text = utf8_to_code_points(s);
    std::reverse(text.begin(), text.end());
    std::vector<std::string> reversed_parts = split_whitespace(text, max_split);
    std::vector<std::string> parts;
    for (auto it = reversed_parts.rbegin(); it != reversed_parts.rend(); ++it) {
      std::vector<uint32_t> part = utf8_to_code_points(*it);
      std::reverse(part.begin(), part.end());
      parts.push_back(code_points_to_utf8(part));
    }
    return parts;
  }
  if (separator->empty()) throw Failure("rsplit: empty separator");
  std::vector<std::string> parts;
  size_t end = s.size();
  int64_t splits = 0;
  while (max_split < 0 || splits < max_split) {
    if (end < separator->size()) break;
    size_t found = s.rfind(*separator, end - separator->size());
    if (found == std::string::npos) break;
    parts.push_back(s.substr(found + separator->size(), end - found - separator->size()));
    end = found;
    ++splits;
  }
  parts.push_back(s.substr(0, end));
  std::reverse(parts.begin(), parts.end());
  return parts;
}

std::string python_replace(const std::string& s, const std::string& old_text, const std::string& new_text,
                           int64_t count) {
  std::string out;
  if (old_text.empty()) {
    // Python inserts the replacement before every character and at the end.
    std::vector<uint32_t> text = utf8_to_code_points(s);
    int64_t done = 0;
    for (uint32_t c : text) {
      if (count < 0 || done < count) {
        out += new_text;
        ++done;
      }
      append_utf8(out, c);
    }
    if (count < 0 || done < count) out += new_text;
    return out;
  }
  size_t position = 0;
  int64_t done = 0;
  while (count < 0 || done < count) {
    size_t found = s.find(old_text, position);
    if (found == std::string::npos) break;
    out.append(s, position, found - position);
    out += new_text;
    position = found + old_text.size();
    ++done;
  }
  out.append(s, position, std::string::npos);
  return out;
}

namespace {

template <typename Map>
std::string map_code_points(const std::string& s, Map map) {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) append_utf8(out, map(decode_utf8_at(s, i)));
  return out;
}

uint32_t to_upper(uint32_t c) { return static_cast<uint32_t>(utf8proc_toupper(static_cast<utf8proc_int32_t>(c))); }
uint32_t to_lower(uint32_t c) { return static_cast<uint32_t>(utf8proc_tolower(static_cast<utf8proc_int32_t>(c))); }
bool is_cased_letter(uint32_t c) { return to_upper(c) != c || to_lower(c) != c; }

}  // namespace

std::string python_upper(const std::string& s) { return map_code_points(s, to_upper); }
std::string python_lower(const std::string& s) { return map_code_points(s, to_lower); }

std::string python_capitalize(const std::string& s) {
  bool first = true;
  return map_code_points(s, [&](uint32_t c) {
    uint32_t mapped = first ? to_upper(c) : to_lower(c);
    first = false;
    return mapped;
  });
}

std::string python_title(const std::string& s) {
  bool previous_cased = false;
  return map_code_points(s, [&](uint32_t c) {
    uint32_t mapped = previous_cased ? to_lower(c) : to_upper(c);
    previous_cased = is_cased_letter(c);
    return mapped;
  });
}

}  // namespace qwen3vl::jinja
