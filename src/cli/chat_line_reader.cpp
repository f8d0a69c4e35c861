#include "chat_line_reader.h"

#include <editline/readline.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "chat_interrupt.h"

namespace qwen3vl::cli {

namespace {

constexpr int kHistoryEntries = 1000;

}  // namespace

ChatLineReader::ChatLineReader(bool terminal, std::string history_file)
    : terminal_(terminal), history_file_(std::move(history_file)) {
  if (!terminal_) return;
  // libedit decodes multi-byte input (UTF-8) only under the user's locale.
  std::setlocale(LC_CTYPE, "");
  rl_readline_name = "qwen3vl";
  using_history();
  stifle_history(kHistoryEntries);
  if (!history_file_.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(std::filesystem::path(history_file_).parent_path(), ec);
    read_history(history_file_.c_str());  // a missing file is a first run
  }
}

ChatLineReader::~ChatLineReader() {
  if (terminal_ && !history_file_.empty()) write_history(history_file_.c_str());
}

std::optional<std::string> ChatLineReader::read(const std::string& prompt) {
  if (!terminal_) {
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    return line;
  }
  clear_interrupt();
  char* raw = readline(prompt.c_str());
  if (!raw) {
    if (!interrupt_requested()) return std::nullopt;  // Ctrl-D
    clear_interrupt();
    std::fputs("\n", stdout);
    return std::string();
  }
  std::string line = raw;
  std::free(raw);
  if (line.find_first_not_of(" \t") != std::string::npos) add_history(line.c_str());
  return line;
}

}  // namespace qwen3vl::cli
