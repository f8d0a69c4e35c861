// The model behind the server, through the public Session API: one request
// at a time, on the session (slot) that can reuse the most of its prompt.
#include <algorithm>

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
  SessionBackend(std::shared_ptr<const Model> model, int slots, size_t encoding_cache_bytes)
      : model_(std::move(model)), encodings_(std::make_shared<EncodingCache>(encoding_cache_bytes)) {
    for (int i = 0; i < std::max(1, slots); ++i)
      slots_.push_back({std::make_unique<Session>(model_, SessionOptions{encodings_}), 0});
  }

  BackendResult run(GenerationJob& job) override {
    job.set_opens_reasoning(prompt_opens_reasoning(render_prompt(*model_, job)));
    Slot& slot = pick_slot(slots_[0].session->prepare(job.messages(), job.options()));
    slot.last_used = ++clock_;
    const GenerationResult r = slot.session->generate(job.messages(), job.options(), [&](std::string_view piece) {
      return job.append(piece) && !job.cancelled();
    });
    BackendResult out;
    out.prompt_tokens = static_cast<int64_t>(r.prompt_ids.size());
    out.cached_tokens = r.reused_tokens;
    out.completion_tokens = static_cast<int64_t>(r.output_ids.size());
    out.finish_reason = r.finish_reason;
    out.decode_seconds = r.timings.decode_ms / 1000.0;
    out.images_encoded = r.encoded_media;
    out.images_from_cache = r.cached_media;
    return out;
  }

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    uint64_t last_used = 0;
  };

  // The slot whose conversation the prompt continues (it keeps at least half
  // of that slot's cache), keeping the most; failing that, the least recently
  // used slot, so a new conversation does not wipe a cache another one will
  // come back to.
  Slot& pick_slot(const PreparedPrompt& prompt) {
    Slot* best = nullptr;
    int64_t best_reuse = 0;
    for (Slot& s : slots_) {
      const int64_t reuse = s.session->reusable_tokens(prompt);
      if (reuse > best_reuse && 2 * reuse >= s.session->cached_tokens()) {
        best = &s;
        best_reuse = reuse;
      }
    }
    if (best) return *best;
    best = &slots_[0];
    for (Slot& s : slots_)
      if (s.last_used < best->last_used) best = &s;
    return *best;
  }

  std::shared_ptr<const Model> model_;
  std::shared_ptr<EncodingCache> encodings_;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
};

}  // namespace

std::unique_ptr<GenerationBackend> make_session_backend(std::shared_ptr<const Model> model, int slots,
                                                        size_t encoding_cache_bytes) {
  return std::make_unique<SessionBackend>(std::move(model), slots, encoding_cache_bytes);
}

}  // namespace qwen3vl::server
