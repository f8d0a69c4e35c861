// The model behind the server, through the public Session API: up to
// --parallel requests at once, each on a session (slot) of its own, the one
// that can reuse the most of its prompt; their decode steps run batched.
#include <algorithm>
#include <mutex>

#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "server/assistant_output_parser.h"
#include "server/decode_batcher.h"
#include "server/generation_backend.h"

namespace qwen3vl::server {

std::string render_prompt(const Model& model, const GenerationJob& job) {
  const NormalizedMessages normalized = normalize_messages(job.messages());
  return model.chat_template().render(normalized.messages, true, job.options().template_extra);
}

namespace {

class SessionBackend : public GenerationBackend {
 public:
  SessionBackend(std::shared_ptr<const Model> model, const SessionBackendOptions& options, Metrics* metrics)
      : model_(std::move(model)),
        encodings_(std::make_shared<EncodingCache>(options.encoding_cache_bytes)),
        batcher_(metrics, options.prefill_chunk_rows) {
    for (int i = 0; i < std::max(1, options.slots); ++i)
      slots_.push_back({std::make_unique<Session>(model_, SessionOptions{encodings_}), 0, false});
  }

  // Runs on one of the scheduler's threads, beside the other running jobs;
  // their prompt parts and decode steps take turns, the decode steps batched
  // (DecodeBatcher).
  BackendResult run(GenerationJob& job) override {
    job.set_opens_reasoning(prompt_opens_reasoning(render_prompt(*model_, job)));
    // prepare() reads only the model and the session's fixed settings, so
    // any session may prepare while others decode.
    PreparedPrompt prompt = slots_[0].session->prepare(job.messages(), job.options());
    SlotLease lease(*this, prompt);
    Session& session = *lease.slot.session;
    const EncodeStats encoded = session.encode(prompt);
    DecodeBatcher::Membership member(batcher_);
    const PrefillStats prefilled = batcher_.prefill(session, prompt);
    Generation generation(session, prompt, job.options(), [&](std::string_view piece) {
      return job.append(piece) && !job.cancelled();
    });
    for (std::optional<int32_t> token = generation.next(); token; token = generation.next())
      batcher_.step(session, *token);
    const GenerationResult r = generation.finish();
    BackendResult out;
    out.prompt_tokens = static_cast<int64_t>(r.prompt_ids.size());
    out.cached_tokens = prefilled.reused_tokens;
    out.completion_tokens = static_cast<int64_t>(r.output_ids.size());
    out.finish_reason = r.finish_reason;
    out.decode_seconds = r.timings.decode_ms / 1000.0;
    out.decode_in_metrics = true;
    out.images_encoded = encoded.encoded_media;
    out.images_from_cache = encoded.cached_media;
    return out;
  }

 private:
  struct Slot {
    std::unique_ptr<Session> session;
    uint64_t last_used = 0;
    bool busy = false;
  };

  // A free slot for one request, given back when the request ends.
  struct SlotLease {
    SessionBackend& backend;
    Slot& slot;
    SlotLease(SessionBackend& b, const PreparedPrompt& prompt) : backend(b), slot(b.acquire_slot(prompt)) {}
    ~SlotLease() {
      std::lock_guard<std::mutex> lock(backend.slots_mutex_);
      slot.busy = false;
    }
  };

  // Among the free slots: the one whose conversation the prompt continues
  // (it keeps at least half of that slot's cache), keeping the most; failing
  // that, the least recently used, so a new conversation does not wipe a
  // cache another one will come back to. The scheduler runs at most as many
  // jobs as there are slots, so one is always free.
  Slot& acquire_slot(const PreparedPrompt& prompt) {
    std::lock_guard<std::mutex> lock(slots_mutex_);
    Slot* best = nullptr;
    int64_t best_reuse = 0;
    for (Slot& s : slots_) {
      if (s.busy) continue;
      const int64_t reuse = s.session->reusable_tokens(prompt);
      if (reuse > best_reuse && 2 * reuse >= s.session->cached_tokens()) {
        best = &s;
        best_reuse = reuse;
      }
    }
    if (!best)
      for (Slot& s : slots_)
        if (!s.busy && (!best || s.last_used < best->last_used)) best = &s;
    if (!best) throw ApiError(503, "service_unavailable_error", "no free slot (more jobs than --parallel)");
    best->busy = true;
    best->last_used = ++clock_;
    return *best;
  }

  std::shared_ptr<const Model> model_;
  std::shared_ptr<EncodingCache> encodings_;
  DecodeBatcher batcher_;
  std::mutex slots_mutex_;
  std::vector<Slot> slots_;
  uint64_t clock_ = 0;
};

}  // namespace

std::unique_ptr<GenerationBackend> make_session_backend(std::shared_ptr<const Model> model,
                                                        const SessionBackendOptions& options, Metrics* metrics) {
  return std::make_unique<SessionBackend>(std::move(model), options, metrics);
}

}  // namespace qwen3vl::server
