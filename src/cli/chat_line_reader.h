// The lines `qwen3vl chat` reads: on a terminal through libedit (line
// editing, history kept across runs), otherwise plain lines from stdin so
// scripts can pipe messages in.
#pragma once
#include <optional>
#include <string>

namespace qwen3vl::cli {

class ChatLineReader {
 public:
  // `history_file`: where a terminal's history is read from and appended to
  // ("" keeps it for this run only). Ignored without a terminal.
  ChatLineReader(bool terminal, std::string history_file);
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
};

}  // namespace qwen3vl::cli
