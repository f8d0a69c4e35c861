#include "qwen3vl/runtime/stop_strings.h"

#include <algorithm>

namespace qwen3vl {

StopStringFilter::StopStringFilter(std::vector<std::string> stops) {
  for (auto& s : stops)
    if (!s.empty()) stops_.push_back(std::move(s));
}

StopStringFilter::Output StopStringFilter::push(const std::string& piece) {
  Output out;
  pending_ += piece;
  if (stops_.empty()) {
    out.emit.swap(pending_);
    return out;
  }
  size_t first_stop = std::string::npos;
  for (const auto& s : stops_) first_stop = std::min(first_stop, pending_.find(s));
  if (first_stop != std::string::npos) {
    out.emit = pending_.substr(0, first_stop);
    out.stopped = true;
    pending_.clear();
    return out;
  }
  // Hold back the longest suffix that is a proper prefix of some stop string.
  size_t hold = 0;
  for (const auto& s : stops_) {
    for (size_t k = std::min(s.size() - 1, pending_.size()); k > hold; --k) {
      if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) {
        hold = k;
        break;
      }
    }
  }
  // Never split a UTF-8 sequence: move the cut back to a character start.
  size_t cut = pending_.size() - hold;
  while (cut > 0 && cut < pending_.size() && (static_cast<unsigned char>(pending_[cut]) & 0xC0) == 0x80) --cut;
  out.emit = pending_.substr(0, cut);
  pending_.erase(0, cut);
  return out;
}

std::string StopStringFilter::flush(const std::string& tail) {
  Output o = push(tail);
  if (o.stopped) return o.emit;
  std::string rest = o.emit + pending_;
  pending_.clear();
  return rest;
}

}  // namespace qwen3vl
