// Renders a parsed template against a set of variables. Jinja2 semantics as
// transformers uses them: for-loops get a fresh scope per iteration (so
// templates use namespace() to carry state out), `set` writes the innermost
// scope, macros see the template's top-level variables and their arguments.
// Hostile templates are bounded: loop iterations, output size and call depth
// are capped and exceeding a cap is an Error, never a crash.
#pragma once
#include <cstdint>
#include <string>

#include "qwen3vl/tokenizer/jinja/ast.h"
#include "qwen3vl/tokenizer/jinja/value.h"

namespace qwen3vl::jinja {

struct RenderLimits {
  size_t max_output_bytes = size_t{64} << 20;
  int64_t max_loop_iterations = 1'000'000;
  int max_call_depth = 64;
};

// Throws qwen3vl::Error naming `origin`, line and column on any failure; a
// raise_exception(msg) call in the template yields an Error ending in msg.
std::string render_template(const Body& body, const std::string& origin, const Dict& variables,
                            const RenderLimits& limits = {});

}  // namespace qwen3vl::jinja
