// How a video appears in the prompt. The chat template writes one
// placeholder per video; the processor turns it into one block per frame
// pair, each preceded by the pair's time as text:
//   <0.3 seconds><|vision_start|><|video_pad|>...<|vision_end|><1.6 seconds>...
// The time text must be tokenized together with the text around it (" <"
// after a space is one token), so the expansion is done on the rendered text,
// with ONE <|video_pad|> per frame pair; the caller then repeats each pad
// token tokens_per_frame_pair() times, as for images.
#pragma once
#include <string>
#include <vector>

namespace qwen3vl {

enum class VideoPromptForm {
  // transformers 4.57 to 5.9 (the Qwen team's processor): the template's
  // whole <|vision_start|><|video_pad|><|vision_end|> is replaced.
  ReplaceWrapper,
  // transformers >= 5.10: only <|video_pad|> is replaced; the template's
  // outer <|vision_start|> ... <|vision_end|> stays around the blocks.
  KeepWrapper,
};

struct VideoPromptTokens {
  std::string vision_start = "<|vision_start|>";
  std::string vision_end = "<|vision_end|>";
  std::string video_pad = "<|video_pad|>";
};

// The text of one video: per timestamp, "<t seconds>" + vision_start +
// video_pad + vision_end (one pad per frame pair).
std::string video_prompt_text(const std::vector<double>& timestamps, const VideoPromptTokens& tokens = {});

// Replaces the video placeholders of a rendered prompt, in order, by
// `video_texts`. Throws Error when the number of placeholders differs from
// the number of videos.
std::string expand_video_placeholders(const std::string& prompt, const std::vector<std::string>& video_texts,
                                      VideoPromptForm form, const VideoPromptTokens& tokens = {});

}  // namespace qwen3vl
