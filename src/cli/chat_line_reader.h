// The lines `qwen3vl chat` reads: on a terminal through libedit (line
// editing, history kept across runs), otherwise plain lines from stdin so
// scripts can pipe messages in.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace qwen3vl::cli {

class ChatLineReader {
 public:
  // `history_file`: where a terminal's history is read from and appended to
  // ("" keeps it for this run only). `commands` ("/image", ...) are what Tab
  // completes at the start of a line; elsewhere it completes file names.
  // Both ignored without a terminal. One reader at a time (libedit's state is
  // global).
  ChatLineReader(bool terminal, std::string history_file, std::vector<std::string> commands = {});
  ~ChatLineReader();
  ChatLineReader(const ChatLineReader&) = delete;
  ChatLineReader& operator=(const ChatLineReader&) = delete;

  bool terminal() const { return terminal_; }

  // The next line without its newline; nullopt at the end of input (Ctrl-D).
  // Ctrl-C at a terminal's prompt abandons the line typed so far and gives
  // an empty line (a fresh prompt, as shells do).
  std::optional<std::string> read(const std::string& prompt);

 private:
  bool terminal_;
  std::string history_file_;
  std::vector<std::string> commands_;
};

}  // namespace qwen3vl::cli
