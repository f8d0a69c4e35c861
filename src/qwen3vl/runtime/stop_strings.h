// Watches streamed text for user stop strings. Text that might be the start
// of a stop string is held back until it is clear either way, so a stop
// string never reaches the user even when it arrives split over tokens.
#pragma once
#include <string>
#include <vector>

namespace qwen3vl {

class StopStringFilter {
 public:
  explicit StopStringFilter(std::vector<std::string> stops);

  struct Output {
    std::string emit;      // safe to show now
    bool stopped = false;  // a stop string was found; nothing after it is emitted
  };
  // Adds a piece of complete UTF-8 text.
  Output push(const std::string& piece);
  // The held-back text (when generation ends without a stop string), plus `tail`.
  std::string flush(const std::string& tail = "");

 private:
  std::vector<std::string> stops_;
  std::string pending_;
};

}  // namespace qwen3vl
