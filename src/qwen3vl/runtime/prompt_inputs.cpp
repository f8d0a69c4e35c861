#include "qwen3vl/runtime/prompt_inputs.h"

#include "qwen3vl/runtime/messages.h"
#include "qwen3vl/runtime/model_impl.h"
#include "qwen3vl/tokenizer/chat_template.h"
#include "qwen3vl/tokenizer/tokenizer.h"

namespace qwen3vl {

namespace {

// The template's placeholder block for one medium of `kind`.
std::string placeholder_block(MediaKind kind) {
  return std::string("<|vision_start|>") + (kind == MediaKind::Image ? "<|image_pad|>" : "<|video_pad|>") +
         "<|vision_end|>";
}

// Puts each medium's own placeholder text (if it has one) in place of the
// template's block for it; blocks match media in order, per kind.
std::string apply_placeholder_texts(const std::string& prompt, const std::vector<PreparedMedium>& media) {
  std::vector<const PreparedMedium*> of_kind[2];
  bool any = false;
  for (const PreparedMedium& m : media) {
    of_kind[m.kind == MediaKind::Image ? 0 : 1].push_back(&m);
    any = any || !m.placeholder_text.empty();
  }
  if (!any) return prompt;
  const std::string blocks[2] = {placeholder_block(MediaKind::Image), placeholder_block(MediaKind::Video)};
  size_t next[2] = {0, 0};
  std::string out;
  size_t pos = 0;
  while (true) {
    const size_t at[2] = {prompt.find(blocks[0], pos), prompt.find(blocks[1], pos)};
    const int k = at[0] <= at[1] ? 0 : 1;
    if (at[k] == std::string::npos) break;
    out.append(prompt, pos, at[k] - pos);
    const PreparedMedium* m = next[k] < of_kind[k].size() ? of_kind[k][next[k]++] : nullptr;
    // Unmatched blocks stay as written; the layout reports the mismatch.
    out += m && !m->placeholder_text.empty() ? m->placeholder_text : blocks[k];
    pos = at[k] + blocks[k].size();
  }
  out.append(prompt, pos, std::string::npos);
  return out;
}

}  // namespace

std::vector<float> PromptInputs::pixel_values(MediaKind kind) const {
  std::vector<float> pixels;
  for (const PreparedMedium& m : media)
    if (m.kind == kind) pixels.insert(pixels.end(), m.pixel_values.begin(), m.pixel_values.end());
  return pixels;
}

PromptInputs prepare_prompt_inputs(const Model::Impl& m, const Json& messages, const GenerateOptions& options,
                                   const std::string& base_dir, int64_t context_tokens) {
  PromptInputs p;
  const NormalizedMessages normalized = normalize_messages(messages);
  std::string text = m.chat_template->render(normalized.messages, true, options.template_extra);

  const MediaPreparation preparation{m.preprocessor, m.video_processor, options, *m.pool, base_dir, context_tokens};
  for (size_t i = 0; i < normalized.media.size(); ++i) {
    p.media.push_back(prepare_medium(normalized.media[i], i, preparation));
    (p.media.back().kind == MediaKind::Video ? p.timings.video_decode_ms : p.timings.image_decode_ms) +=
        p.media.back().decode_ms;
    p.timings.preprocess_ms += p.media.back().preprocess_ms;
  }
  text = apply_placeholder_texts(text, p.media);

  const std::vector<int32_t> ids = m.tokenizer->encode(text, true);
  std::vector<MediaGrid> grids;
  for (const PreparedMedium& medium : p.media) grids.push_back({medium.kind, medium.grid});
  p.layout = layout_prompt(m.config, ids, grids);
  return p;
}

}  // namespace qwen3vl
