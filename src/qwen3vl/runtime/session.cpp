// A conversation over a shared model: a short loop over the stages
// prepare -> encode -> prefill -> decode steps. All model logic (placeholder
// expansion, positions, scatter, DeepStack, chunking) lives in the model
// layer (model/qwen3vl_model.h); this file keeps the conversation's state:
// its KV cache, what each cached row holds, and the sampler loop.
#include <algorithm>
#include <chrono>

#include "qwen3vl/base/content_hash.h"
#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/decode_trace.h"
#include "qwen3vl/runtime/generate_options_check.h"
#include "qwen3vl/runtime/encoding_cache.h"
#include "qwen3vl/runtime/media_preparation.h"
#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/prompt_inputs.h"
#include "qwen3vl/runtime/kv_cache_choice.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t) { return std::chrono::duration<double, std::milli>(Clock::now() - t).count(); }

constexpr size_t kPrivateEncodingCacheBytes = size_t(64) << 20;

// What one cached row holds: its token and, for a media row, which medium
// (every pad of every image has the same token id, so the id alone cannot
// tell two images apart).
struct RowKey {
  int32_t token = 0;
  uint64_t medium = 0;  // 0 for text rows
  bool operator==(const RowKey&) const = default;
};

TensorSink sink_of(const TensorCapture* capture) {
  TensorSink s;
  if (capture) {
    s.f32 = capture->f32;
    s.i64 = capture->i64;
  }
  return s;
}

}  // namespace

struct PreparedPrompt::Impl {
  PromptLayout layout;
  std::vector<PreparedMedium> media;
  std::vector<std::string> cache_keys;                         // per medium, for the encoding cache
  std::vector<std::shared_ptr<const MediaEncoding>> encodings;  // per medium; null until encoded
  std::vector<RowKey> rows;                                    // per prompt row
  StageTimings timings;
  int image_tokens = 0;
  int video_tokens = 0;
};

PreparedPrompt::PreparedPrompt() : impl_(std::make_unique<Impl>()) {}
PreparedPrompt::~PreparedPrompt() = default;
PreparedPrompt::PreparedPrompt(PreparedPrompt&&) noexcept = default;
PreparedPrompt& PreparedPrompt::operator=(PreparedPrompt&&) noexcept = default;
const std::vector<int32_t>& PreparedPrompt::ids() const { return impl_->layout.ids; }
size_t PreparedPrompt::media_count() const { return impl_->media.size(); }
int PreparedPrompt::image_tokens() const { return impl_->image_tokens; }
const StageTimings& PreparedPrompt::timings() const { return impl_->timings; }

MediaInfo PreparedPrompt::media(size_t index) const {
  if (index >= impl_->media.size())
    throw Error("medium " + std::to_string(index) + " of a prompt with " + std::to_string(impl_->media.size()));
  const PreparedMedium& m = impl_->media[index];
  MediaInfo info;
  info.kind = media_kind_name(m.kind);
  info.grid_t = m.grid.t;
  info.grid_h = m.grid.h;
  info.grid_w = m.grid.w;
  info.tokens = impl_->layout.media[index].tokens;
  info.content_hash = m.content_hash;
  info.options_key = m.options_key;
  info.encoded = impl_->encodings[index] != nullptr;
  return info;
}

struct Session::Impl {
  std::shared_ptr<const Model> model;
  const Model::Impl& m;
  const Qwen3VLModel& network;
  std::shared_ptr<EncodingCache> encoding_cache;
  KVCache cache;
  DecoderWorkspace workspace;
  std::vector<RowKey> cached_rows;  // what each row of `cache` holds
  int64_t rope_delta = 0;           // of the prompt whose rows the cache holds
  std::span<const float> logits;    // of the next token; points into `workspace` or `batch_logits`
  std::vector<float> batch_logits;  // this session's row of a decode_together() step
  std::string base_dir;

  Impl(std::shared_ptr<const Model> model_in, SessionOptions options)
      : model(std::move(model_in)),
        m(ModelAccess::of(*model)),
        network(loaded_network(*model)),
        encoding_cache(options.encoding_cache ? std::move(options.encoding_cache)
                                              : std::make_shared<EncodingCache>(kPrivateEncodingCacheBytes)),
        cache(network.make_cache(m.options.context_length, resolved_kv_cache_type(m.options))) {}

  ForwardContext context(const TensorSink* capture) const { return {*m.pool, capture, nullptr}; }

  void decode_step(int32_t token, const TensorSink* capture) {
    check(!cached_rows.empty(), "decode_step: nothing was prefilled");
    logits = {};
    logits = network.decode_step(token, rope_delta, cache, workspace, context(capture));
    cached_rows.push_back({token, 0});
  }

  // Rows of the cache the prompt can keep: the longest common prefix of
  // (token, medium) pairs, leaving at least the last prompt row to compute
  // (its logits pick the first answer token).
  int64_t reusable_prefix(const PreparedPrompt::Impl& p) const {
    const size_t limit = std::min(cached_rows.size(), p.rows.size() - 1);
    size_t n = 0;
    while (n < limit && cached_rows[n] == p.rows[n]) ++n;
    return static_cast<int64_t>(n);
  }

  // Session::prefill (max_rows 0) or prefill_part (at most max_rows rows).
  PrefillStats prefill(const PreparedPrompt::Impl& p, int64_t max_rows, const TensorCapture* capture) {
    const auto t0 = Clock::now();
    PrefillStats stats;
    stats.reused_tokens = capture ? 0 : reusable_prefix(p);
    const int64_t length = p.layout.length();
    const int64_t end = max_rows > 0 ? std::min(length, stats.reused_tokens + max_rows) : length;
    stats.prefilled_tokens = end - stats.reused_tokens;
    stats.complete = end == length;
    cache.truncate(stats.reused_tokens);
    cached_rows.resize(static_cast<size_t>(stats.reused_tokens));
    logits = {};
    const TensorSink sink = sink_of(capture);
    PrefillOptions options;
    if (!stats.complete) options.end_row = end;
    try {
      const std::span<const float> last = network.prefill(p.layout, p.encodings, stats.reused_tokens, cache,
                                                          workspace, context(capture ? &sink : nullptr), options);
      if (stats.complete) logits = last;  // a part's last row is not the prompt's
    } catch (...) {
      record_rows(p);
      throw;
    }
    record_rows(p);
    rope_delta = p.layout.rope_delta;
    stats.ms = ms_since(t0);
    return stats;
  }

  // Makes the record of cached rows agree with the cache after a prefill
  // that stopped part-way (the rows it committed are the prompt's).
  void record_rows(const PreparedPrompt::Impl& p) {
    cached_rows.assign(p.rows.begin(), p.rows.begin() + std::min<int64_t>(cache.size(), p.rows.size()));
  }
};

Session::Session(std::shared_ptr<const Model> model, SessionOptions options)
    : impl_(std::make_unique<Impl>(std::move(model), std::move(options))) {}
Session::~Session() = default;
void Session::set_base_dir(const std::string& dir) { impl_->base_dir = dir; }
int64_t Session::cached_tokens() const { return impl_->cache.size(); }
int64_t Session::context_length() const { return impl_->cache.capacity(); }
const Model& Session::model() const { return *impl_->model; }
int64_t Session::reusable_tokens(const PreparedPrompt& prompt) const {
  return impl_->reusable_prefix(*prompt.impl_);
}
std::span<const float> Session::logits() const { return impl_->logits; }

void Session::reset() {
  impl_->cache.clear();
  impl_->cached_rows.clear();
  impl_->logits = {};
}

PreparedPrompt Session::prepare(const Json& messages, const GenerateOptions& options) const {
  const Model::Impl& m = impl_->m;
  validate_generate_options(options);  // before any work a bad option would waste
  PreparedPrompt prompt;
  PreparedPrompt::Impl& p = *prompt.impl_;

  PromptInputs inputs = prepare_prompt_inputs(m, messages, options, impl_->base_dir, impl_->cache.capacity());
  p.layout = std::move(inputs.layout);
  p.media = std::move(inputs.media);
  p.timings = inputs.timings;

  const int64_t L = p.layout.length();  // checked against the context before any pixel was decoded

  // Row identities for prefix reuse, and cache keys for the encodings.
  std::vector<uint64_t> medium_ids;
  for (const PreparedMedium& medium : p.media) {
    const std::string key = std::to_string(m.instance_id) + "/" + medium.content_hash + "/" + medium.options_key;
    p.cache_keys.push_back(key);
    medium_ids.push_back(key_digest(key) | 1);  // never 0, the text marker
  }
  p.rows.resize(static_cast<size_t>(L));
  for (int64_t r = 0; r < L; ++r) {
    const int32_t medium = p.layout.row_medium[r];
    p.rows[r] = {p.layout.ids[r], medium < 0 ? 0 : medium_ids[medium]};
  }
  p.encodings.assign(p.media.size(), nullptr);
  for (const MediaPlacement& placement : p.layout.media)
    (placement.kind == MediaKind::Image ? p.image_tokens : p.video_tokens) += static_cast<int>(placement.tokens);
  return prompt;
}

EncodeStats Session::encode(PreparedPrompt& prompt, const TensorCapture* capture) {
  const auto t0 = Clock::now();
  PreparedPrompt::Impl& p = *prompt.impl_;
  EncodeStats stats;
  // Capturing reports every medium's tower traces: compute all afresh.
  const bool fresh = capture != nullptr;
  const std::vector<bool> needed = p.layout.media_needed_from(fresh ? 0 : impl_->reusable_prefix(p));
  std::vector<size_t> to_encode;
  for (size_t i = 0; i < p.media.size(); ++i) {
    if (!needed[i]) {
      ++stats.skipped_media;
      continue;
    }
    if (!fresh && p.encodings[i]) continue;
    if (!fresh) p.encodings[i] = impl_->encoding_cache->impl_->find(p.cache_keys[i]);
    if (p.encodings[i]) {
      ++stats.cached_media;
      continue;
    }
    to_encode.push_back(i);
  }
  if (!to_encode.empty()) {
    std::vector<MediaPixels> pixels;
    for (size_t i : to_encode) pixels.push_back({p.media[i].kind, p.media[i].grid, p.media[i].pixel_values});
    const TensorSink sink = sink_of(capture);
    auto encoded = impl_->network.encode_media(pixels, impl_->context(capture ? &sink : nullptr));
    for (size_t k = 0; k < to_encode.size(); ++k) {
      const size_t i = to_encode[k];
      p.encodings[i] = std::move(encoded[k]);
      impl_->encoding_cache->impl_->insert(p.cache_keys[i], p.encodings[i]);
    }
    stats.encoded_media = static_cast<int>(to_encode.size());
  }
  stats.ms = ms_since(t0);
  p.timings.vision_ms += stats.ms;
  return stats;
}

PrefillStats Session::prefill(const PreparedPrompt& prompt, const TensorCapture* capture) {
  return impl_->prefill(*prompt.impl_, 0, capture);
}

PrefillStats Session::prefill_part(const PreparedPrompt& prompt, int64_t max_rows) {
  check(max_rows > 0, "prefill_part: max_rows must be positive, got " + std::to_string(max_rows));
  return impl_->prefill(*prompt.impl_, max_rows, nullptr);
}

void Session::decode_step(int32_t token) { impl_->decode_step(token, nullptr); }

void Session::decode_together(std::span<Session* const> sessions, std::span<const int32_t> tokens) {
  check(sessions.size() == tokens.size(), "decode_together: " + std::to_string(tokens.size()) + " tokens for " +
                                              std::to_string(sessions.size()) + " sessions");
  if (sessions.empty()) return;
  std::vector<DecodeRequest> requests;
  for (size_t i = 0; i < sessions.size(); ++i) {
    check(sessions[i] != nullptr, "decode_together: a null session");
    Impl& s = *sessions[i]->impl_;
    check(&s.network == &sessions[0]->impl_->network, "decode_together: the sessions run different models");
    check(!s.cached_rows.empty(), "decode_together: a session has nothing prefilled");
    requests.push_back({tokens[i], s.rope_delta, &s.cache});  // decode_batch refuses a session given twice
  }
  // The first session's scratch serves the batch; each row is copied to its
  // session, whose logits must outlive the next batch. The first session's
  // own logits move out of that scratch first, so a throw leaves them intact.
  Impl& first = *sessions[0]->impl_;
  if (first.logits.data() != first.batch_logits.data()) {
    first.batch_logits.assign(first.logits.begin(), first.logits.end());
    first.logits = first.batch_logits;
  }
  const std::span<const float> rows = first.network.decode_batch(requests, first.workspace, first.context(nullptr));
  const size_t vocab = rows.size() / sessions.size();
  for (size_t i = 0; i < sessions.size(); ++i) {
    Impl& s = *sessions[i]->impl_;
    s.batch_logits.assign(rows.begin() + i * vocab, rows.begin() + (i + 1) * vocab);
    s.cached_rows.push_back({tokens[i], 0});
  }
  for (Session* session : sessions) session->impl_->logits = session->impl_->batch_logits;
}

GenerationResult Session::generate(const Json& messages, const GenerateOptions& options,
                                   const std::function<bool(std::string_view)>& on_text,
                                   const TensorCapture* capture) {
  const auto start = Clock::now();
  PreparedPrompt prompt = prepare(messages, options);
  const EncodeStats encoded = encode(prompt, capture);
  const PrefillStats prefilled = prefill(prompt, capture);
  const double before_answer_ms = ms_since(start);

  // A capture also gets the decode steps' integer traces (MoE routing).
  DecodeTrace trace;
  const TensorSink* step_capture = capture && capture->i64 ? &trace.sink() : nullptr;
  Generation generation(*this, prompt, options, on_text);
  while (const std::optional<int32_t> token = generation.next()) impl_->decode_step(*token, step_capture);
  GenerationResult result = generation.finish();
  if (step_capture) {
    // The loop never feeds back the last token it emits; the reference
    // records that token's traces too.
    if (trace.steps() > 0 && trace.steps() < static_cast<int64_t>(result.output_ids.size()) &&
        impl_->cache.size() < impl_->cache.capacity())
      impl_->decode_step(result.output_ids.back(), step_capture);
    trace.emit_to(sink_of(capture));
  }

  const PreparedPrompt::Impl& p = *prompt.impl_;
  const double decode_ms = result.timings.decode_ms, ttft_ms = result.timings.ttft_ms;
  result.timings = p.timings;
  result.timings.prefill_ms = prefilled.ms;
  result.timings.decode_ms = decode_ms;
  result.timings.ttft_ms = before_answer_ms + ttft_ms;
  result.image_tokens = p.image_tokens;
  result.video_tokens = p.video_tokens;
  result.reused_tokens = prefilled.reused_tokens;
  result.prefilled_tokens = prefilled.prefilled_tokens;
  result.encoded_media = encoded.encoded_media;
  result.cached_media = encoded.cached_media;
  return result;
}

}  // namespace qwen3vl
