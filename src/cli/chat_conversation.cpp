#include "chat_conversation.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "qwen3vl/base/atomic_file.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/runtime/messages.h"

namespace fs = std::filesystem;

namespace qwen3vl::cli {

namespace {

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n");
  if (a == std::string::npos) return "";
  return s.substr(a, s.find_last_not_of(" \t\r\n") - a + 1);
}

// Terminals quote pasted paths that hold spaces.
std::string unquote(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '\'' || s.front() == '"') && s.back() == s.front()) return s.substr(1, s.size() - 2);
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  return std::tolower(static_cast<unsigned char>(c)) - 'a' + 10;
}

// file:///a%20b.png -> /a b.png (file managers percent-escape spaces and
// non-ASCII); anything else is returned as it is.
std::string path_of_file_url(const std::string& s) {
  if (s.rfind("file://", 0) != 0) return s;
  std::string rest = s.substr(7);
  if (rest.rfind("localhost/", 0) == 0) rest = rest.substr(9);
  std::string out;
  for (size_t i = 0; i < rest.size(); ++i) {
    if (rest[i] == '%' && i + 2 < rest.size() && std::isxdigit(static_cast<unsigned char>(rest[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(rest[i + 2]))) {
      out += static_cast<char>(hex_value(rest[i + 1]) * 16 + hex_value(rest[i + 2]));
      i += 2;
    } else {
      out += rest[i];
    }
  }
  return out;
}

std::string expand_home(const std::string& s) {
  if (s.rfind("~/", 0) == 0)
    if (const char* home = std::getenv("HOME")) return home + s.substr(1);
  return s;
}

// An attached file's absolute path; `what` names the kind for errors.
std::string attachment_path(const std::string& path_or_url, const std::string& what) {
  const std::string path = expand_home(path_of_file_url(unquote(trim(path_or_url))));
  if (path.empty()) throw Error("/" + what + " needs a file path (or a file:// URL)");
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error("no " + what + " file at " + path);
  if (!fs::is_regular_file(path, ec)) throw Error(path + " is not a regular file");
  return fs::absolute(path, ec).lexically_normal().string();
}

}  // namespace

ChatConversation::ChatConversation(std::string system) : system_(std::move(system)) { reset(); }

void ChatConversation::reset() {
  messages_ = Json::array();
  if (!system_.empty()) messages_.push_back({{"role", "system"}, {"content", system_}});
  pending_.clear();
  pending_videos_.clear();
  base_dir_.clear();
}

void ChatConversation::attach_image(const std::string& path_or_url) {
  pending_.push_back(attachment_path(path_or_url, "image"));
}

void ChatConversation::attach_video(const std::string& path_or_url) {
  pending_videos_.push_back(attachment_path(path_or_url, "video"));
}

void ChatConversation::add_user(const std::string& text) {
  if (pending_.empty() && pending_videos_.empty()) {
    messages_.push_back({{"role", "user"}, {"content", text}});
    return;
  }
  Json parts = Json::array();
  for (const auto& p : pending_) parts.push_back({{"type", "image"}, {"image", p}});
  for (const auto& p : pending_videos_) parts.push_back({{"type", "video"}, {"video", p}});
  parts.push_back({{"type", "text"}, {"text", text}});
  messages_.push_back({{"role", "user"}, {"content", std::move(parts)}});
  pending_.clear();
  pending_videos_.clear();
}

void ChatConversation::add_assistant(const std::string& text) {
  messages_.push_back({{"role", "assistant"}, {"content", text}});
}

void ChatConversation::drop_last_user() {
  if (!messages_.empty() && messages_.back().value("role", "") == "user") messages_.erase(messages_.size() - 1);
}

std::string ChatConversation::last_image() const {
  if (messages_.empty()) return "";
  std::string last;
  for (const MediaReference& m : normalize_messages(messages_, base_dir_).media)
    if (m.kind == MediaKind::Image) last = m.source;
  return last;
}

std::string ChatConversation::last_answer() const {
  for (size_t i = messages_.size(); i-- > 0;)
    if (messages_[i].value("role", "") == "assistant" && messages_[i]["content"].is_string())
      return messages_[i]["content"].get<std::string>();
  return "";
}

void ChatConversation::save(const std::string& path) const {
  // A fresh temporary file beside the target, renamed into place: a planted
  // symlink is replaced rather than followed, and a failed write leaves the
  // old file (or nothing) behind.
  write_file_atomically(path, messages_.dump(2, ' ', false, Json::error_handler_t::replace) + "\n");
}

void ChatConversation::load(const std::string& path) {
  const Json m = load_json_file(path);
  const std::string dir = fs::absolute(path).parent_path().string();
  try {
    normalize_messages(m, dir);
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  messages_ = m;
  pending_.clear();
  pending_videos_.clear();
  base_dir_ = dir;
}

std::string pasted_image_path(const std::string& line) {
  const std::string s = unquote(trim(line));
  const bool url = s.rfind("file://", 0) == 0;
  if (!url && s.rfind("/", 0) != 0 && s.rfind("./", 0) != 0 && s.rfind("~/", 0) != 0) return "";
  const std::string path = expand_home(path_of_file_url(s));
  std::error_code ec;
  if (path.empty() || !fs::is_regular_file(path, ec)) return "";
  static const char* kImageExtensions[] = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp"};
  std::string ext = fs::path(path).extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* e : kImageExtensions)
    if (ext == e) return path;
  return "";
}

}  // namespace qwen3vl::cli
