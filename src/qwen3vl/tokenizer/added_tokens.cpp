#include "qwen3vl/tokenizer/added_tokens.h"

#include <algorithm>

#include <utf8proc.h>

#include "qwen3vl/tokenizer/utf8.h"

namespace qwen3vl {
namespace {

// Code point ending just before `pos` (valid UTF-8 assumed); sets *start to its first byte.
char32_t code_point_before(std::string_view text, size_t pos, size_t* start) {
  size_t s = pos - 1;
  while (s > 0 && (static_cast<uint8_t>(text[s]) & 0xC0) == 0x80) --s;
  *start = s;
  size_t p = s;
  return utf8_next_code_point(text, p);
}

bool is_word_char(char32_t cp) {
  if (cp == '_') return true;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO: case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

}  // namespace

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens) : tokens_(std::move(tokens)) {
  std::erase_if(tokens_, [](const AddedToken& t) { return t.content.empty(); });
  std::stable_sort(tokens_.begin(), tokens_.end(),
                   [](const AddedToken& a, const AddedToken& b) { return a.content.size() > b.content.size(); });
  for (const AddedToken& t : tokens_) is_first_byte_[static_cast<uint8_t>(t.content[0])] = true;
}

void AddedTokenMatcher::split(std::string_view text, bool skip_special, std::vector<TextSegment>& out) const {
  size_t plain_start = 0;  // start of the pending plain-text stretch
  size_t pos = 0;
  while (pos < text.size()) {
    if (!is_first_byte_[static_cast<uint8_t>(text[pos])]) {
      ++pos;
      continue;
    }
    const AddedToken* hit = nullptr;
    for (const AddedToken& t : tokens_) {
      if (skip_special && t.special) continue;
      if (text.compare(pos, t.content.size(), t.content) != 0) continue;
      if (t.single_word) {
        size_t before = 0;
        const size_t end = pos + t.content.size();
        size_t after = end;
        if (pos > plain_start && is_word_char(code_point_before(text, pos, &before))) continue;
        if (end < text.size() && is_word_char(utf8_next_code_point(text, after))) continue;
      }
      hit = &t;
      break;
    }
    if (!hit) {
      ++pos;
      continue;
    }
    size_t start = pos, end = pos + hit->content.size();
    if (hit->lstrip) {
      size_t before = 0;
      while (start > plain_start && is_unicode_whitespace(code_point_before(text, start, &before))) start = before;
    }
    if (hit->rstrip) {
      while (end < text.size()) {
        size_t next = end;
        if (!is_unicode_whitespace(utf8_next_code_point(text, next))) break;
        end = next;
      }
    }
    if (start > plain_start) out.push_back(TextSegment{text.substr(plain_start, start - plain_start), -1});
    out.push_back(TextSegment{text.substr(start, end - start), hit->id});
    plain_start = pos = end;
  }
  if (plain_start < text.size()) out.push_back(TextSegment{text.substr(plain_start), -1});
}

}  // namespace qwen3vl
