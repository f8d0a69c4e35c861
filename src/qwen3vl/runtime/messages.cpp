#include "qwen3vl/runtime/messages.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl {

namespace {

std::string resolve(const std::string& source, const std::string& base_dir) {
  if (source.rfind("data:", 0) == 0 || base_dir.empty() || source.empty() || source[0] == '/') return source;
  if (source.rfind("file://", 0) == 0) return source.substr(7);
  return base_dir + "/" + source;
}

bool is_remote(const std::string& s) { return s.rfind("http://", 0) == 0 || s.rfind("https://", 0) == 0; }

// {"type":"video","video":PATH or [frame PATHs]} or {"type":"video_url",
// "video_url":{"url":...}}, with optional "fps" or "num_frames", as
// {"type":"video","video":...,"fps"|"num_frames":...}.
Json normalize_video_part(const Json& p, const std::string& type, const std::string& pw) {
  Json video;
  if (type == "video" && p.contains("video")) video = p["video"];
  else if (p.contains("video_url") && p["video_url"].is_string()) video = p["video_url"];
  else if (p.contains("video_url") && p["video_url"].is_object() && p["video_url"].contains("url"))
    video = p["video_url"]["url"];
  if (video.is_string()) {
    const std::string src = video;
    if (src.empty()) throw Error(pw + " has an empty video path");
    if (is_remote(src)) throw Error(pw + ": remote video URLs are not fetched; pass a local path or a data: URI");
  } else if (video.is_array()) {
    if (video.empty()) throw Error(pw + " is a video with an empty frame list");
    for (const Json& f : video) {
      if (!f.is_string() || f.get<std::string>().empty())
        throw Error(pw + ": a video's frame list must hold image paths (strings)");
      if (is_remote(f)) throw Error(pw + ": remote frame URLs are not fetched; pass local paths");
    }
  } else {
    throw Error(pw + " is a video without a path, data: URI or frame list");
  }
  Json out = {{"type", "video"}, {"video", video}};
  const bool has_fps = p.contains("fps") && !p["fps"].is_null();
  const bool has_count = p.contains("num_frames") && !p["num_frames"].is_null();
  if (has_fps && has_count) throw Error(pw + ": \"fps\" and \"num_frames\" are mutually exclusive; give one of them");
  if (has_fps) {
    if (!p["fps"].is_number() || !(p["fps"].get<double>() > 0)) throw Error(pw + ": \"fps\" must be a positive number");
    out["fps"] = p["fps"];
  }
  if (has_count) {
    if (!p["num_frames"].is_number_integer() || p["num_frames"].get<int64_t>() < 1)
      throw Error(pw + ": \"num_frames\" must be a positive integer");
    out["num_frames"] = p["num_frames"];
  }
  return out;
}

}  // namespace

NormalizedMessages normalize_messages(const Json& messages, const std::string& base_dir) {
  if (!messages.is_array()) throw Error("messages must be a JSON array of {\"role\", \"content\"} objects");
  if (messages.empty()) throw Error("messages is empty");
  NormalizedMessages out;
  out.messages = Json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const Json& m = messages[i];
    const std::string where = "message " + std::to_string(i);
    if (!m.is_object()) throw Error(where + " is not an object");
    if (!m.contains("role") || !m["role"].is_string()) throw Error(where + " has no \"role\" string");
    const std::string role = m["role"];
    if (role != "system" && role != "user" && role != "assistant" && role != "tool")
      throw Error(where + " has unknown role \"" + role + "\" (system, user, assistant or tool)");
    Json nm = m;
    if (!m.contains("content") || m["content"].is_null()) {
      if (role != "assistant") throw Error(where + " (" + role + ") has no \"content\"");
      nm["content"] = "";
    } else if (m["content"].is_array()) {
      Json parts = Json::array();
      for (size_t k = 0; k < m["content"].size(); ++k) {
        const Json& p = m["content"][k];
        const std::string pw = where + " part " + std::to_string(k);
        if (!p.is_object()) throw Error(pw + " is not an object");
        std::string type = p.value("type", "");
        if (type.empty()) {
          if (p.contains("text")) type = "text";
          else if (p.contains("image")) type = "image";
          else if (p.contains("image_url")) type = "image_url";
          else if (p.contains("video")) type = "video";
          else if (p.contains("video_url")) type = "video_url";
        }
        if (type == "text") {
          if (!p.contains("text") || !p["text"].is_string()) throw Error(pw + " has no \"text\" string");
          parts.push_back({{"type", "text"}, {"text", p["text"]}});
        } else if (type == "image" || type == "image_url") {
          std::string src;
          if (type == "image" && p.contains("image") && p["image"].is_string()) src = p["image"];
          else if (p.contains("image_url") && p["image_url"].is_string()) src = p["image_url"];
          else if (p.contains("image_url") && p["image_url"].is_object() && p["image_url"].contains("url") &&
                   p["image_url"]["url"].is_string())
            src = p["image_url"]["url"];
          else throw Error(pw + " is an image without a path or URL");
          if (src.empty()) throw Error(pw + " has an empty image path");
          if (src.rfind("http://", 0) == 0 || src.rfind("https://", 0) == 0)
            throw Error(pw + ": remote image URLs are not fetched; pass a local path or a data: URI");
          if (role != "user") throw Error(pw + ": images are only accepted in user messages");
          parts.push_back({{"type", "image"}, {"image", src}});
          out.media.push_back({MediaKind::Image, resolve(src, base_dir), parts.back()});
        } else if (type == "video" || type == "video_url") {
          if (role != "user") throw Error(pw + ": videos are only accepted in user messages");
          Json part = normalize_video_part(p, type, pw);
          const std::string src = part["video"].is_string() ? resolve(part["video"], base_dir) : std::string();
          parts.push_back(part);
          out.media.push_back({MediaKind::Video, src, parts.back()});
        } else {
          throw Error(pw + " has unknown type \"" + type + "\"");
        }
      }
      nm["content"] = parts;
    } else if (!m["content"].is_string()) {
      throw Error(where + " content must be a string or a list of parts");
    }
    out.messages.push_back(nm);
  }
  return out;
}

Json make_user_messages(const std::string& system, const std::vector<std::string>& images, const std::string& text,
                        const std::vector<std::string>& videos) {
  Json messages = Json::array();
  if (!system.empty()) messages.push_back({{"role", "system"}, {"content", system}});
  if (images.empty() && videos.empty()) {
    messages.push_back({{"role", "user"}, {"content", text}});
  } else {
    Json parts = Json::array();
    for (const auto& img : images) parts.push_back({{"type", "image"}, {"image", img}});
    for (const auto& video : videos) parts.push_back({{"type", "video"}, {"video", video}});
    if (!text.empty()) parts.push_back({{"type", "text"}, {"text", text}});
    messages.push_back({{"role", "user"}, {"content", parts}});
  }
  return messages;
}

}  // namespace qwen3vl
