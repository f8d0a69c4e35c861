#include <cctype>

#include "qwen3vl/hub.h"

namespace qwen3vl {

namespace {

// One path segment of a Hub repo id.
bool valid_segment(std::string_view s) {
  if (s.empty() || s.size() > 96) return false;
  for (char c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  if (s.front() == '-' || s.front() == '.' || s.back() == '-' || s.back() == '.') return false;
  return s.find("--") == std::string_view::npos && s.find("..") == std::string_view::npos;
}

bool valid_revision(std::string_view r) {
  if (r.empty() || r.size() > 255 || r.front() == '/' || r.find("..") != std::string_view::npos) return false;
  for (char c : r)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '/') return false;
  return true;
}

}  // namespace

std::optional<HubModelName> HubModelName::parse(std::string_view text) {
  HubModelName n;
  const size_t at = text.find('@');
  if (at != std::string_view::npos) {
    n.revision = std::string(text.substr(at + 1));
    if (!valid_revision(n.revision)) return std::nullopt;
    text = text.substr(0, at);
  }
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos || !valid_segment(text.substr(0, slash)) ||
      !valid_segment(text.substr(slash + 1)))
    return std::nullopt;
  n.repo_id = std::string(text);
  return n;
}

}  // namespace qwen3vl
