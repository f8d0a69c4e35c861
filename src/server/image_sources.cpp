#include "server/image_sources.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>

#include "qwen3vl/base/error.h"
#include "qwen3vl/image/data_uri.h"
#include "qwen3vl/image/image_decode.h"
#include "server/api_error.h"

namespace qwen3vl::server {

namespace {

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

std::string lower_prefix(const std::string& s, size_t n) {
  std::string p = s.substr(0, n);
  for (char& c : p) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return p;
}

// realpath() of an existing path, or empty.
std::string real_path(const std::string& path) {
  char buf[PATH_MAX];
  if (!::realpath(path.c_str(), buf)) return "";
  return buf;
}

bool inside(const std::string& resolved, const std::string& root) {
  return resolved == root || resolved.rfind(root + "/", 0) == 0;
}

std::function<void()>& local_open_hook() {
  static std::function<void()> hook;
  return hook;
}

// Closes a descriptor on every way out.
struct Descriptor {
  int fd = -1;
  ~Descriptor() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads a local file confined to policy.local_root. Checking a path and then
// opening it would leave a window in which a component of the path can be
// swapped for a symlink leading out of the folder. So the verdict is about
// the open descriptor itself: after opening, realpath() must still lead
// inside the folder to the very file that was opened (same device and inode).
// A swap before the open is caught by the first check, one after it by the
// second; whatever the descriptor holds was, at a moment after the open,
// reachable inside the folder. The open never blocks (O_NONBLOCK: a FIFO has
// no writer) and the read stops one byte past the size limit.
std::vector<uint8_t> read_confined_file(const std::string& reference, const ImageSourcePolicy& policy,
                                        const std::string& where, const std::string& noun) {
  if (policy.local_root.empty())
    throw invalid_request(where + ": local " + noun + " paths are not accepted by this server (send a data: URI, or start "
                          "it with --allow-local-images DIR)",
                          "messages", "image_source_not_allowed");
  std::string path = starts_with(reference, "file://") ? reference.substr(7) : reference;
  const std::string root = real_path(policy.local_root);
  if (root.empty()) throw ApiError(500, "server_error", "--allow-local-images folder is gone: " + policy.local_root);
  if (path.empty()) throw invalid_request(where + ": empty " + noun + " path", "messages");
  if (path[0] != '/') path = root + "/" + path;
  auto not_found = [&] {
    // The same answer for "missing" and "outside" would hide typos; telling
    // them apart reveals nothing about files outside the folder that the
    // outside-check does not already refuse to open.
    return invalid_request(where + ": " + noun + " file not found: " + reference, "messages", "image_not_found");
  };
  auto outside = [&] {
    return invalid_request(where + ": " + noun + " path " + reference +
                               " is outside the folder allowed by --allow-local-images",
                           "messages", "image_source_not_allowed");
  };
  const std::string before = real_path(path);
  if (before.empty()) throw not_found();
  if (!inside(before, root)) throw outside();

  if (local_open_hook()) local_open_hook()();
  Descriptor file;
  file.fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (file.fd < 0) {
    if (errno == ENOENT) throw not_found();
    throw invalid_request(where + ": cannot open " + reference + ": " + std::strerror(errno), "messages");
  }
  struct stat opened {};
  if (::fstat(file.fd, &opened) != 0)
    throw invalid_request(where + ": cannot read " + reference + ": " + std::strerror(errno), "messages");
  const std::string after = real_path(path);
  struct stat found {};
  if (after.empty() || !inside(after, root) || ::stat(after.c_str(), &found) != 0 || found.st_dev != opened.st_dev ||
      found.st_ino != opened.st_ino)
    throw invalid_request(where + ": " + noun + " path " + reference +
                              " changed while it was opened, or leads outside the folder allowed by "
                              "--allow-local-images",
                          "messages", "image_source_not_allowed");
  if (!S_ISREG(opened.st_mode))
    throw invalid_request(where + ": " + reference + " is not a regular file", "messages", "invalid_image");
  auto too_large = [&] {
    return invalid_request(where + ": " + noun + " " + reference + " is larger than the limit of " +
                               std::to_string(policy.max_image_bytes) + " bytes",
                           "messages", "image_too_large");
  };
  if (opened.st_size > policy.max_image_bytes) throw too_large();
  std::vector<uint8_t> bytes;
  bytes.reserve(static_cast<size_t>(opened.st_size));
  uint8_t chunk[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(file.fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw invalid_request(where + ": could not read " + reference + ": " + std::strerror(errno), "messages");
    if (n == 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
    if (static_cast<int64_t>(bytes.size()) > policy.max_image_bytes) throw too_large();  // grew since fstat()
  }
  return bytes;
}

// Checks an encoded image without decoding its pixels: known format and
// declared size within the caps (the header is parsed by the same decoder
// that will decode it).
std::string checked_data_uri(std::vector<uint8_t> bytes, const ImageSourcePolicy& policy, const std::string& where) {
  const ImageFormat format = detect_image_format(bytes.data(), bytes.size());
  if (format == ImageFormat::Unknown)
    throw invalid_request(where + ": not an image in a supported format (JPEG, PNG, WebP, GIF, BMP)", "messages",
                          "invalid_image");
  std::string type = std::string("image/") + image_format_name(format);
  for (char& c : type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return make_data_uri(type, bytes.data(), bytes.size());
}

// A video's bytes as a data: URI. Its container is checked when the session
// opens it (from the header, before any frame is decoded).
std::string video_data_uri(const std::vector<uint8_t>& bytes) {
  return make_data_uri("video/octet-stream", bytes.data(), bytes.size());
}

std::string resolve_one(const std::string& reference, const ImageSourcePolicy& policy, const RemoteFetcher& fetch,
                        const std::string& where, bool video) {
  const std::string noun = video ? "video" : "image";
  auto checked = [&](std::vector<uint8_t> bytes) {
    return video ? video_data_uri(bytes) : checked_data_uri(std::move(bytes), policy, where);
  };
  if (is_data_uri(reference)) {
    // Refuse oversized payloads before decoding them: 4 characters carry 3 bytes.
    const size_t comma = reference.find(',');
    if (comma != std::string::npos &&
        static_cast<int64_t>((reference.size() - comma - 1) / 4 * 3) > policy.max_image_bytes + 3)
      throw invalid_request(where + ": " + noun + " is larger than the limit of " + std::to_string(policy.max_image_bytes) +
                                " bytes",
                            "messages", "image_too_large");
    DataUri uri;
    try {
      uri = parse_data_uri(reference);
    } catch (const Error& e) {
      throw invalid_request(where + ": " + e.what(), "messages", "invalid_image");
    }
    if (video) return reference;
    return checked_data_uri(std::move(uri.bytes), policy, where);
  }
  const std::string scheme = lower_prefix(reference, 8);
  if (starts_with(scheme, "http://") || starts_with(scheme, "https://")) {
    if (!policy.allow_remote)
      throw invalid_request(where + ": " + noun + " URLs are not fetched by this server (send a data: URI, or start it "
                            "with --allow-remote-images)",
                            "messages", "image_source_not_allowed");
    return checked(fetch(reference));
  }
  if (reference.find("://") != std::string::npos && !starts_with(scheme, "file://"))
    throw invalid_request(where + ": unsupported " + noun + " URL scheme in " + reference.substr(0, 32), "messages",
                          "image_source_not_allowed");
  return checked(read_confined_file(reference, policy, where, noun));
}

}  // namespace

void set_local_open_hook_for_tests(std::function<void()> hook) { local_open_hook() = std::move(hook); }

int resolve_image_sources(Json& messages, const ImageSourcePolicy& policy, const RemoteFetcher& fetch) {
  int count = 0;
  for (size_t i = 0; i < messages.size(); ++i) {
    Json& content = messages[i]["content"];
    if (!content.is_array()) continue;
    for (size_t k = 0; k < content.size(); ++k) {
      Json& part = content[k];
      if (!part.is_object()) continue;  // normalize_messages reports it
      const std::string where = "messages[" + std::to_string(i) + "].content[" + std::to_string(k) + "]";
      Json* slot = nullptr;
      const char* url_key = part.contains("image_url") ? "image_url" : part.contains("video_url") ? "video_url" : nullptr;
      const bool video = part.contains("video_url") || (!part.contains("image_url") && part.contains("video"));
      if (url_key) {
        Json& u = part[url_key];
        if (u.is_object() && u.contains("url")) slot = &u["url"];
        else slot = &u;
      } else if (part.contains("image")) {
        slot = &part["image"];
      } else if (part.contains("video")) {
        slot = &part["video"];
        // Frame lists name many files; the server takes a video as one file or data: URI.
        if (slot->is_array())
          throw invalid_request(where + ": a video given as a list of frames is not accepted by this server (send "
                                "the video file as a data: URI or video_url)",
                                "messages", "image_source_not_allowed");
      } else {
        continue;
      }
      const std::string noun = video ? "video" : "image";
      if (!slot->is_string())
        throw invalid_request(where + ": the " + noun + " URL must be a string", "messages", "invalid_type");
      // Videos count as media too: each is at least as heavy as an image.
      if (++count > policy.max_images_per_request)
        throw invalid_request("too many images and videos: at most " + std::to_string(policy.max_images_per_request) +
                                  " per request",
                              "messages", "too_many_images");
      *slot = resolve_one(slot->get<std::string>(), policy, fetch, where, video);
    }
  }
  return count;
}

}  // namespace qwen3vl::server
