#include "chat_line_reader.h"

#include <editline/readline.h>

#include <clocale>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "chat_interrupt.h"

namespace qwen3vl::cli {

namespace {

constexpr int kHistoryEntries = 1000;

// libedit's completion callbacks carry no user data: the commands of the
// one live reader.
const std::vector<std::string>* g_commands = nullptr;

// Called with state 0 for a new word, then until it returns null.
char* next_command(const char* text, int state) {
  static size_t index;
  if (state == 0) index = 0;
  const std::string prefix = text;
  while (g_commands && index < g_commands->size()) {
    const std::string& c = (*g_commands)[index++];
    if (c.rfind(prefix, 0) == 0) return strdup(c.c_str());  // libedit frees it
  }
  return nullptr;
}

// A command name at the start of the line; no match (or anything else)
// falls back to libedit's file-name completion.
char** complete(const char* text, int start, int) {
  if (start != 0 || text[0] != '/') return nullptr;
  return rl_completion_matches(text, next_command);
}

}  // namespace

ChatLineReader::ChatLineReader(bool terminal, std::string history_file, std::vector<std::string> commands)
    : terminal_(terminal), history_file_(std::move(history_file)), commands_(std::move(commands)) {
  if (!terminal_) return;
  g_commands = &commands_;
  rl_attempted_completion_function = complete;
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
  if (!terminal_) return;
  if (!history_file_.empty()) write_history(history_file_.c_str());
  g_commands = nullptr;
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
