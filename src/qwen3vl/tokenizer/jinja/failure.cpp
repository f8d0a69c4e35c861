#include "qwen3vl/tokenizer/jinja/failure.h"

#include "qwen3vl/base/error.h"

namespace qwen3vl::jinja {

void throw_template_error(const std::string& origin, SourcePosition position, const std::string& message) {
  throw Error("chat template " + origin + ": line " + std::to_string(position.line) + ", column " +
              std::to_string(position.column) + ": " + message);
}

}  // namespace qwen3vl::jinja
