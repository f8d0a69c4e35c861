// What `/stats` in `qwen3vl chat` reports: the context's fill and the last
// turn's cache reuse and speeds, derived from the GenerationResult.
#pragma once
#include <cstdint>
#include <string>

#include "qwen3vl/qwen3vl.h"

namespace qwen3vl::cli {

struct ChatTurnStats {
  int64_t prompt_tokens = 0;
  int64_t reused_tokens = 0;     // from the session's cache (earlier turns)
  int64_t prefilled_tokens = 0;  // computed for this turn
  int64_t answer_tokens = 0;
  int encoded_media = 0, cached_media = 0;
  double prefill_ms = 0, decode_ms = 0, vision_ms = 0, ttft_ms = 0;
  // Tokens per second; 0 when nothing was timed. Decode speed counts the
  // tokens after the first (the first comes out of the prefill).
  double prefill_tps() const;
  double decode_tps() const;
};

ChatTurnStats turn_stats(const GenerationResult& r);

// One answer for `chat --json`: {text, finish_reason ("interrupted" when
// Ctrl-C stopped it), prompt_tokens, reused_tokens, prefilled_tokens,
// answer_tokens, prefill_tps, decode_tps, ttft_ms}.
Json chat_answer_json(const GenerationResult& r, bool interrupted);

// The /stats text (several lines, each ending in '\n'). `turn` is null before
// the first answer.
std::string format_chat_stats(int64_t context_tokens, int64_t context_capacity, const ChatTurnStats* turn);

}  // namespace qwen3vl::cli
