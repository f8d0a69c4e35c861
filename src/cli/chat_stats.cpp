#include "chat_stats.h"

#include <cstdio>

namespace qwen3vl::cli {

double ChatTurnStats::prefill_tps() const { return prefill_ms > 0 ? prefilled_tokens * 1000.0 / prefill_ms : 0.0; }

double ChatTurnStats::decode_tps() const {
  return decode_ms > 0 && answer_tokens > 1 ? (answer_tokens - 1) * 1000.0 / decode_ms : 0.0;
}

ChatTurnStats turn_stats(const GenerationResult& r) {
  ChatTurnStats s;
  s.prompt_tokens = static_cast<int64_t>(r.prompt_ids.size());
  s.reused_tokens = r.reused_tokens;
  s.prefilled_tokens = r.prefilled_tokens;
  s.answer_tokens = static_cast<int64_t>(r.output_ids.size());
  s.encoded_media = r.encoded_media;
  s.cached_media = r.cached_media;
  s.prefill_ms = r.timings.prefill_ms;
  s.decode_ms = r.timings.decode_ms;
  s.vision_ms = r.timings.vision_ms;
  s.ttft_ms = r.timings.ttft_ms;
  return s;
}

Json chat_answer_json(const GenerationResult& r, bool interrupted) {
  const ChatTurnStats s = turn_stats(r);
  return {{"text", r.text},
          {"finish_reason", interrupted ? "interrupted" : r.finish_reason},
          {"prompt_tokens", s.prompt_tokens},
          {"reused_tokens", s.reused_tokens},
          {"prefilled_tokens", s.prefilled_tokens},
          {"answer_tokens", s.answer_tokens},
          {"prefill_tps", s.prefill_tps()},
          {"decode_tps", s.decode_tps()},
          {"ttft_ms", s.ttft_ms}};
}

std::string format_chat_stats(int64_t context_tokens, int64_t context_capacity, const ChatTurnStats* turn) {
  char buf[512];
  std::string out;
  std::snprintf(buf, sizeof buf, "context: %lld of %lld tokens\n", static_cast<long long>(context_tokens),
                static_cast<long long>(context_capacity));
  out += buf;
  if (!turn) return out + "no answer yet\n";
  const double reuse = turn->prompt_tokens > 0 ? 100.0 * turn->reused_tokens / turn->prompt_tokens : 0.0;
  std::snprintf(buf, sizeof buf,
                "last turn: prompt %lld tokens: %lld reused from the cache (%.0f%%), %lld prefilled in %.0f ms "
                "(%.1f tok/s)\n",
                static_cast<long long>(turn->prompt_tokens), static_cast<long long>(turn->reused_tokens), reuse,
                static_cast<long long>(turn->prefilled_tokens), turn->prefill_ms, turn->prefill_tps());
  out += buf;
  std::snprintf(buf, sizeof buf, "           answer %lld tokens in %.0f ms (%.1f tok/s), first token after %.0f ms\n",
                static_cast<long long>(turn->answer_tokens), turn->decode_ms, turn->decode_tps(), turn->ttft_ms);
  out += buf;
  if (turn->encoded_media + turn->cached_media > 0) {
    std::snprintf(buf, sizeof buf, "           images: %d encoded (%.0f ms), %d from the encoding cache\n",
                  turn->encoded_media, turn->vision_ms, turn->cached_media);
    out += buf;
  }
  return out;
}

}  // namespace qwen3vl::cli
