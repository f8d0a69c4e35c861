// The conversation `qwen3vl chat` holds: OpenAI-style messages (the same JSON
// `run --messages` reads), the images and videos waiting for the next user message, and
// the directory relative image paths of a loaded conversation refer to.
#pragma once
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"

namespace qwen3vl::cli {

class ChatConversation {
 public:
  explicit ChatConversation(std::string system = "");

  // Back to the system message alone; pending images are dropped.
  void reset();

  // Queues an image (a path, possibly quoted, or a file:// URL) for the next
  // user message, stored as an absolute path so a saved conversation works
  // from any directory. Throws Error when it is not a regular file.
  void attach_image(const std::string& path_or_url);
  const std::vector<std::string>& pending_images() const { return pending_; }
  // Queues a video file the same way (frames sampled as `run --video` does).
  void attach_video(const std::string& path_or_url);
  const std::vector<std::string>& pending_videos() const { return pending_videos_; }

  // Appends the user's turn: the pending images first, then the videos, then the text.
  void add_user(const std::string& text);
  void add_assistant(const std::string& text);
  // Removes the last message when it is the user's (its generation failed);
  // its images are not queued again.
  void drop_last_user();

  const Json& messages() const { return messages_; }
  // Relative image paths in the messages refer to this directory ("" for the
  // working directory): that of the last /load.
  const std::string& base_dir() const { return base_dir_; }
  // The last image of the conversation (for /draw), or "" when there is none.
  std::string last_image() const;
  // The last assistant answer, or "".
  std::string last_answer() const;

  // /save and /load: a JSON array of messages. load() checks the messages as
  // generation would (roles, parts, image references) before replacing the
  // conversation, so a bad file leaves the current one intact.
  void save(const std::string& path) const;
  void load(const std::string& path);

 private:
  std::string system_;
  Json messages_;
  std::vector<std::string> pending_;
  std::vector<std::string> pending_videos_;
  std::string base_dir_;
};

// A line that is nothing but an image file's path (absolute, ./ or ~/,
// possibly quoted) or a file:// URL, as terminals paste dragged files: that
// path, else "".
std::string pasted_image_path(const std::string& line);

}  // namespace qwen3vl::cli
