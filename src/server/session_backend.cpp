// The model behind the server, through the public Session API: one
// conversation at a time, each request a fresh generate() call.
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "server/assistant_output_parser.h"
#include "server/generation_backend.h"

namespace qwen3vl::server {

std::string render_prompt(const Model& model, const GenerationJob& job) {
  const NormalizedMessages normalized = normalize_messages(job.messages());
  return model.chat_template().render(normalized.messages, true, job.options().template_extra);
}

namespace {

class SessionBackend : public GenerationBackend {
 public:
  explicit SessionBackend(std::shared_ptr<const Model> model) : model_(std::move(model)), session_(model_) {}

  BackendResult run(GenerationJob& job) override {
    job.set_opens_reasoning(prompt_opens_reasoning(render_prompt(*model_, job)));
    const GenerationResult r = session_.generate(job.messages(), job.options(), [&](std::string_view piece) {
      return job.append(piece) && !job.cancelled();
    });
    BackendResult out;
    out.prompt_tokens = static_cast<int64_t>(r.prompt_ids.size());
    out.completion_tokens = static_cast<int64_t>(r.output_ids.size());
    out.finish_reason = r.finish_reason;
    out.decode_seconds = r.timings.decode_ms / 1000.0;
    return out;
  }

 private:
  std::shared_ptr<const Model> model_;
  Session session_;
};

}  // namespace

std::unique_ptr<GenerationBackend> make_session_backend(std::shared_ptr<const Model> model) {
  return std::make_unique<SessionBackend>(std::move(model));
}

}  // namespace qwen3vl::server
