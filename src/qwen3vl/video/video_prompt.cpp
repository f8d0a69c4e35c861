#include "qwen3vl/video/video_prompt.h"

#include "qwen3vl/base/error.h"
#include "qwen3vl/video/frame_timestamps.h"

namespace qwen3vl {

std::string video_prompt_text(const std::vector<double>& timestamps, const VideoPromptTokens& tokens) {
  std::string out;
  for (double t : timestamps) out += timestamp_text(t) + tokens.vision_start + tokens.video_pad + tokens.vision_end;
  return out;
}

std::string expand_video_placeholders(const std::string& prompt, const std::vector<std::string>& video_texts,
                                      VideoPromptForm form, const VideoPromptTokens& tokens) {
  const std::string placeholder = form == VideoPromptForm::ReplaceWrapper
                                      ? tokens.vision_start + tokens.video_pad + tokens.vision_end
                                      : tokens.video_pad;
  std::string out;
  size_t from = 0, used = 0;
  for (;;) {
    const size_t at = prompt.find(placeholder, from);
    if (at == std::string::npos) break;
    if (used == video_texts.size())
      throw Error("the prompt has more video placeholders than the " + std::to_string(video_texts.size()) +
                  " video(s) given");
    out.append(prompt, from, at - from);
    out += video_texts[used++];
    from = at + placeholder.size();
  }
  out.append(prompt, from, std::string::npos);
  if (used != video_texts.size())
    throw Error("the prompt has " + std::to_string(used) + " video placeholder(s) but " +
                std::to_string(video_texts.size()) + " video(s) were given");
  return out;
}

}  // namespace qwen3vl
