// One answer sampled token by token (public qwen3vl::Generation): the
// sampler, EOS, stop strings, the token budget and the UTF-8 stream. It only
// reads the session's logits; who decodes the chosen token (the session
// alone, or several sessions together) is the caller's business.
#include <algorithm>
#include <chrono>
#include <climits>

#include "qwen3vl/qwen3vl.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/runtime/sampler.h"
#include "qwen3vl/runtime/stop_strings.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// The request's sampling options over the model's generation_config.json.
SamplingParams sampling_params(const GenerationConfig& gen, const SamplingOptions& so) {
  SamplingParams sp;
  sp.temperature = so.temperature.value_or(gen.do_sample ? gen.temperature : 0.0f);
  sp.top_k = so.top_k.value_or(gen.top_k);
  sp.top_p = so.top_p.value_or(gen.top_p);
  sp.min_p = so.min_p.value_or(gen.min_p);
  sp.repetition_penalty = so.repetition_penalty.value_or(gen.repetition_penalty);
  sp.presence_penalty = so.presence_penalty.value_or(gen.presence_penalty);
  sp.frequency_penalty = so.frequency_penalty.value_or(0.0f);
  sp.seed = so.seed;
  return sp;
}

}  // namespace

struct Generation::Impl {
  Session& session;
  const GenerationConfig& gen;
  std::function<bool(std::string_view)> on_text;
  Sampler sampler;
  StopStringFilter filter;
  StreamDecoder detok;
  GenerationResult result;
  int max_new = 0;
  int step = 0;
  bool done = false;
  bool stop_string_hit = false;
  Clock::time_point started = Clock::now(), first_token;

  Impl(Session& s, const PreparedPrompt& prompt, const GenerateOptions& options,
       std::function<bool(std::string_view)> text_sink)
      : session(s),
        gen(ModelAccess::of(s.model()).generation),
        on_text(std::move(text_sink)),
        sampler(sampling_params(gen, options.sampling)),
        filter(options.stop),
        detok(*ModelAccess::of(s.model()).tokenizer) {
    sampler.add_prompt(prompt.ids());
    result.prompt_ids = prompt.ids();
    result.finish_reason = "length";
    // The last sampled token is never written to the cache, so the answer
    // may fill the context exactly.
    const int64_t room = s.context_length() - static_cast<int64_t>(prompt.ids().size());
    max_new = static_cast<int>(std::clamp<int64_t>(std::min<int64_t>(options.max_tokens, room), 0, INT32_MAX));
  }
};

Generation::Generation(Session& session, const PreparedPrompt& prompt, const GenerateOptions& options,
                       std::function<bool(std::string_view)> on_text)
    : impl_(std::make_unique<Impl>(session, prompt, options, std::move(on_text))) {}
Generation::~Generation() = default;

std::optional<int32_t> Generation::next() {
  Impl& g = *impl_;
  if (g.done || g.step >= g.max_new) {
    g.done = true;
    return std::nullopt;
  }
  const int32_t token = g.sampler.sample(g.session.logits());
  if (g.step++ == 0) g.first_token = Clock::now();
  if (std::find(g.gen.eos_token_ids.begin(), g.gen.eos_token_ids.end(), token) != g.gen.eos_token_ids.end()) {
    g.result.finish_reason = "stop";
    g.done = true;
    return std::nullopt;
  }
  g.sampler.accept(token);
  g.result.output_ids.push_back(token);
  const StopStringFilter::Output out = g.filter.push(g.detok.put(token));
  g.result.text += out.emit;
  const bool client_stopped = g.on_text && !out.emit.empty() && !g.on_text(out.emit);
  if (out.stopped) {
    g.result.finish_reason = "stop";
    g.stop_string_hit = true;
  }
  if (out.stopped || client_stopped || g.step == g.max_new) {
    g.done = true;
    return std::nullopt;
  }
  return token;
}

GenerationResult Generation::finish() {
  Impl& g = *impl_;
  g.done = true;
  if (!g.stop_string_hit) {  // text held back for a possible stop string is part of the answer
    const std::string tail = g.filter.flush(g.detok.flush());
    g.result.text += tail;
    if (g.on_text && !tail.empty()) g.on_text(tail);
    g.stop_string_hit = true;  // flush once
  }
  const Clock::time_point now = Clock::now();
  if (g.step > 0) {
    g.result.timings.ttft_ms = ms_between(g.started, g.first_token);
    g.result.timings.decode_ms = ms_between(g.first_token, now);
  }
  return g.result;
}

}  // namespace qwen3vl
