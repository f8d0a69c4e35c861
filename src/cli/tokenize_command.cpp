#include <iostream>

#include "args.h"
#include "commands.h"
#include "model_args.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl::cli {

int tokenize_command(int argc, char** argv) {
  Args args("tokenize", "Prints the token ids of a text (special tokens like <|im_start|> are recognised).");
  args.value("-m,--model", "DIR|FILE", "checkpoint directory or qwen3vl model file (default: the embedded model's tokenizer, the real Qwen vocabulary)")
      .value("--text", "TEXT", "the text to encode")
      .flag("--no-special", "treat special-token text as plain text")
      .flag("--json", "print {\"ids\": [...]}");
  if (!args.parse(argc, argv, 2)) return 0;
  if (!args.has("text")) args.fail("tokenize needs --text TEXT");
  LoadOptions opts;
  opts.load_weights = false;
  auto model = args.has("model") ? Model::load(args.get("model"), opts) : Model::load_default(opts);
  const auto ids = model->tokenizer().encode(args.get("text"), !args.has("no-special"));
  if (args.has("json")) {
    std::cout << Json{{"ids", ids}}.dump() << "\n";
  } else {
    for (size_t i = 0; i < ids.size(); ++i) std::cout << (i ? " " : "") << ids[i];
    std::cout << "\n";
  }
  return 0;
}

}  // namespace qwen3vl::cli
