// Test seam: scripted answers instead of the decoder. Random test weights
// never write <think> or <tool_call> on their own, so the parsing and
// streaming of those parts are driven from here, through the same HTTP,
// template and tokenizer path as real answers.
#include <atomic>
#include <chrono>
#include <thread>

#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/stop_strings.h"
#include "qwen3vl/tokenizer/tokenizer.h"
#include "server/assistant_output_parser.h"
#include "server/generation_backend.h"

namespace qwen3vl::server {

namespace {

// The prompt as a JSON string literal with '<' escaped, so that the tags in
// it (<tool_call> of earlier turns, <think>) reach the client verbatim
// instead of being parsed as this answer's own.
std::string prompt_as_json(const std::string& prompt) {
  std::string out;
  for (char c : Json(prompt).dump(-1, ' ', false, Json::error_handler_t::replace)) {
    if (c == '<') out += "\\u003c";
    else out += c;
  }
  return out;
}

class ScriptedBackend : public GenerationBackend {
 public:
  ScriptedBackend(std::shared_ptr<const Model> model, const std::string& file) : model_(std::move(model)) {
    script_ = load_json_file(file);
    if (!script_.is_array() || script_.empty())
      throw Error(file + ": a scripted output file is a non-empty JSON array of answers");
    for (const Json& entry : script_)
      if (!entry.is_string() && !(entry.is_object() && entry.value("echo_prompt", false)))
        throw Error(file + ": each answer is a string or {\"echo_prompt\": true}");
  }

  BackendResult run(GenerationJob& job) override {
    const std::string prompt = render_prompt(*model_, job);
    job.set_opens_reasoning(prompt_opens_reasoning(prompt));
    const Tokenizer& tok = model_->tokenizer();
    const Json& entry = script_[next_++ % script_.size()];
    const std::string answer = entry.is_string() ? entry.get<std::string>() : prompt_as_json(prompt);
    BackendResult out;
    out.prompt_tokens = static_cast<int64_t>(tok.encode(prompt, true).size());
    const std::vector<int32_t> ids = tok.encode(answer, true);
    StreamDecoder detok(tok);
    StopStringFilter stops(job.options().stop);
    bool stopped = false;
    size_t i = 0;
    for (; i < ids.size() && out.completion_tokens < job.options().max_tokens; ++i) {
      // About the pace of a small model, so streams carry one token per chunk
      // as they would with the real decoder.
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      ++out.completion_tokens;
      const StopStringFilter::Output o = stops.push(detok.put(ids[i]));
      if (!o.emit.empty() && !job.append(o.emit)) return out;
      if (o.stopped) {
        stopped = true;
        break;
      }
    }
    out.finish_reason = stopped || i == ids.size() ? "stop" : "length";
    if (!stopped) {
      const std::string tail = stops.flush(detok.flush());
      if (!tail.empty()) job.append(tail);
    }
    return out;
  }

 private:
  std::shared_ptr<const Model> model_;
  Json script_;
  std::atomic<size_t> next_{0};
};

}  // namespace

std::unique_ptr<GenerationBackend> make_scripted_backend(std::shared_ptr<const Model> model,
                                                         const std::string& script_file) {
  return std::make_unique<ScriptedBackend>(std::move(model), script_file);
}

}  // namespace qwen3vl::server
