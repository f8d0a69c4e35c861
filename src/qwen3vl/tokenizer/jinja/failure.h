// A template problem found while evaluating, before it is known where in the
// template it happened. The interpreter catches it at the innermost node it
// was evaluating and rethrows it as qwen3vl::Error naming line and column.
#pragma once
#include <stdexcept>
#include <string>

namespace qwen3vl::jinja {

class Failure : public std::runtime_error {
 public:
  explicit Failure(const std::string& message) : std::runtime_error(message) {}
};

// raise_exception(msg) from the template: reported with the template's own
// message so callers can show it to users unchanged.
class RaisedByTemplate : public std::runtime_error {
 public:
  explicit RaisedByTemplate(const std::string& message) : std::runtime_error(message) {}
};

}  // namespace qwen3vl::jinja

namespace qwen3vl::jinja {

// 1-based line and column in the (newline-normalised) template source.
struct SourcePosition {
  int line = 1;
  int column = 1;
};

// Throws qwen3vl::Error("chat template <origin>: line L, column C: message").
[[noreturn]] void throw_template_error(const std::string& origin, SourcePosition position,
                                       const std::string& message);

}  // namespace qwen3vl::jinja
