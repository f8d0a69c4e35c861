// Python str semantics on UTF-8 std::string: lengths, indices and slices
// count code points, not bytes, and strip/split/upper/lower behave like the
// str methods chat templates call. Invalid UTF-8 bytes are treated as single
// Latin-1 characters so that no input can make these functions fail.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qwen3vl::jinja {

// Decodes the sequence starting at s[i] and advances i past it.
uint32_t decode_utf8_at(const std::string& s, size_t& i);
std::vector<uint32_t> utf8_to_code_points(const std::string& s);
std::string code_points_to_utf8(const std::vector<uint32_t>& code_points);
void append_utf8(std::string& out, uint32_t code_point);

size_t python_length(const std::string& s);
bool python_is_space(uint32_t code_point);

// Python slice semantics: the element indices selected by [start:stop:step]
// on a sequence of `length` elements (negative indices count from the end).
std::vector<size_t> slice_indices(size_t length, std::optional<int64_t> start, std::optional<int64_t> stop,
                                  int64_t step);

enum class StripSide { Both, Left, Right };
// str.strip / lstrip / rstrip; without `chars`, whitespace is stripped.
std::string python_strip(const std::string& s, const std::optional<std::string>& chars, StripSide side);
// str.split(sep=None, maxsplit=-1).
std::vector<std::string> python_split(const std::string& s, const std::optional<std::string>& separator,
                                      int64_t max_split);
// str.rsplit(sep=None, maxsplit=-1).
std::vector<std::string> python_rsplit(const std::string& s, const std::optional<std::string>& separator,
                                       int64_t max_split);
// str.replace(old, new, count=-1).
std::string python_replace(const std::string& s, const std::string& old_text, const std::string& new_text,
                           int64_t count);
std::string python_upper(const std::string& s);
std::string python_lower(const std::string& s);
std::string python_capitalize(const std::string& s);
std::string python_title(const std::string& s);

}  // namespace qwen3vl::jinja
