// qwen3vl: run Qwen3-VL vision-language models on the CPU.
//
// The one public C++ API. The CLI, and later the server and chat front ends,
// are thin layers over it:
//
//   auto model = qwen3vl::Model::load("/models/Qwen3-VL-4B-Instruct");
//   qwen3vl::Session session(model);
//   auto result = session.generate(messages_json, options,
//                                  [](std::string_view piece) { std::cout << piece; return true; });
//
// A Model is immutable once loaded and may be shared by any number of
// Sessions on any threads. A Session is one conversation: it keeps its KV
// cache between generate() calls, so a next turn that resends the whole
// conversation only computes the tokens that are new. generate() is a short
// loop over four stages that callers may also run themselves:
//
//   PreparedPrompt p = session.prepare(messages, options);  // template, ids, decoded media
//   session.encode(p);                                      // vision features (cached by content)
//   session.prefill(p);                                     // reuses the longest cached prefix
//   for (...) { token = pick(session.logits()); session.decode_step(token); }
//
// Generation is that sampling loop one token at a time, and
// Session::decode_together() decodes the next tokens of several sessions in
// one pass over the weights (continuous batching, as a server does).
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/image/preprocessor_config.h"
#include "qwen3vl/model/model_config.h"
#include "qwen3vl/runtime/generation_config.h"

namespace qwen3vl {

class Tokenizer;
class ChatTemplate;

struct LoadOptions {
  int threads = 0;  // 0: one per core
  // Weight format for linear layers: "auto" keeps what the checkpoint stores
  // (bf16 for Hugging Face checkpoints) and computes in float32; "f32", "bf16",
  // "q8", "q4" convert at load (all weights up front, in parallel).
  std::string weights = "auto";
  int64_t context_length = 4096;  // KV cache capacity in tokens
  // KV cache element type: "f16" (half the bytes of f32, keys and values
  // rounded to f16), "bf16", "q8" (int8 with a scale per 32 values), "f32"
  // (exact), or "auto": f32 with the exact weights ("auto"/"f32"), so the
  // reference path stays exact, and f16 with any reduced-precision weights.
  std::string kv_cache = "auto";
  bool load_vision = true;
  bool load_weights = true;  // false: tokenizer, template and configs only
  // Called during long loads with a stage name and a fraction in [0, 1].
  std::function<void(const std::string&, double)> progress;
};

struct ImageOptions {
  int min_tokens = 0;          // 0: from preprocessor_config.json
  int max_tokens = 0;          // 0: from preprocessor_config.json
  int64_t max_input_pixels = 0;  // 0: the default decompression-bomb cap
};

// Request-wide video choices; a video part's own "fps" / "num_frames" win.
struct VideoOptions {
  double fps = 0;              // frames sampled per second of video; 0: video_preprocessor_config.json
  int64_t num_frames = 0;      // a fixed number of frames instead (exclusive with fps); 0: unset
  int64_t max_frame_pixels = 0;  // 0: the default cap on a frame's declared width*height
  // Keep the template's outer <|vision_start|>...<|vision_end|> around the
  // per-frame-pair blocks, as transformers >= 5.10 writes videos; the default
  // replaces it, as the Qwen processor (transformers 4.57 to 5.9) does.
  bool keep_outer_wrapper = false;
};

struct SamplingOptions {
  // Unset fields come from generation_config.json, then greedy.
  std::optional<float> temperature;  // 0 = greedy
  std::optional<int> top_k;
  std::optional<float> top_p;
  std::optional<float> min_p;
  std::optional<float> repetition_penalty;
  std::optional<float> presence_penalty;
  std::optional<float> frequency_penalty;  // OpenAI's: minus this per earlier occurrence in the output
  uint64_t seed = 0;
};

struct GenerateOptions {
  int max_tokens = 256;
  SamplingOptions sampling;
  std::vector<std::string> stop;  // stop strings (not included in the text)
  ImageOptions image;
  VideoOptions video;
  Json template_extra = Json::object();  // e.g. {"enable_thinking": false}
};

struct StageTimings {
  double image_decode_ms = 0, preprocess_ms = 0, vision_ms = 0, prefill_ms = 0, decode_ms = 0;
  double video_decode_ms = 0;  // opening videos and decoding their sampled frames (preprocess_ms has the rest)
  double ttft_ms = 0;  // from generate() start to the first token
};

struct GenerationResult {
  std::vector<int32_t> prompt_ids;  // after <|image_pad|> expansion
  std::vector<int32_t> output_ids;
  std::string text;
  // "stop" (EOS or stop string), "length" (max_tokens generated) or
  // "context_full" (the context filled up before max_tokens).
  std::string finish_reason;
  int image_tokens = 0;
  int video_tokens = 0;  // <|video_pad|> tokens of all videos
  // Prompt tokens whose keys/values came from the session's cache (an earlier
  // turn) and those computed now; they add up to prompt_ids.size().
  int64_t reused_tokens = 0;
  int64_t prefilled_tokens = 0;
  // Media whose features the vision encoder computed for this call, and those
  // taken from the encoding cache. Media lying wholly in the reused prefix
  // need neither and count in neither.
  int encoded_media = 0;
  int cached_media = 0;
  StageTimings timings;
};

// Receives named intermediate tensors (float32 or int64 data, row-major) as
// the pipeline produces them: input_ids, position_ids, rope_deltas,
// pixel_values, image_grid_thw, image_embeds, deepstack_{j}, logits_last, ...
struct TensorCapture {
  std::function<void(const std::string& name, const std::vector<int64_t>& shape, const float* data)> f32;
  std::function<void(const std::string& name, const std::vector<int64_t>& shape, const int64_t* data)> i64;
};

class Model {
 public:
  // Loads a Hugging Face checkpoint directory (config.json, safetensors,
  // tokenizer.json, chat template), or a qwen3vl model file written by
  // `qwen3vl quantize` (any regular file is read as one; see
  // docs/model-file-format.md). A model file keeps its own weight formats:
  // options.weights must be "auto" or the file's quant. Throws Error naming
  // what is wrong.
  static std::shared_ptr<Model> load(const std::string& path, const LoadOptions& options = {});
  // The tiny random-weight model linked into the binary.
  static std::shared_ptr<Model> load_default(const LoadOptions& options = {});
  ~Model();

  const ModelConfig& config() const;
  const GenerationConfig& generation_config() const;
  const PreprocessorConfig& preprocessor_config() const;
  const Tokenizer& tokenizer() const;
  const ChatTemplate& chat_template() const;
  const std::string& path() const;
  bool is_default_model() const;
  const LoadOptions& load_options() const;
  double load_ms() const;
  // Bytes of weights the text decoder reads per generated token.
  size_t decoder_weight_bytes() const;
  // Threads the model's forward passes use (LoadOptions::threads, 0 resolved).
  int threads() const;
  // The kernels chosen for this machine by measurement at load, and why (one
  // line; empty when none was chosen).
  std::string kernel_choices() const;

  struct Impl;

 private:
  friend struct ModelAccess;  // the library's own code (runtime/model_impl.h)
  Model();
  std::unique_ptr<Impl> impl_;
};

// Random-weight checkpoints with the real shapes, for measuring speed and
// memory without downloading a model (random weights cost what real ones
// cost; their words are noise).
struct RandomModelOptions {
  uint64_t seed = 1234;
  int threads = 0;  // threads generating (and quantizing) the weights (0: one per core)
  // Called with (bytes done, total bytes) as the weights are written (for a
  // model file: bytes of bf16 weights generated and converted).
  std::function<void(uint64_t, uint64_t)> progress;
};

// The config.json of a published Qwen3-VL size: "2b", "4b" or "8b". Throws
// Error for another name.
Json published_model_config(const std::string& size);

// Writes a Hugging Face layout checkpoint into `dir` (created): `config` as
// config.json, every tensor it implies with deterministic random bf16 values
// (sharded as the published checkpoints are), and the default model's
// tokenizer, chat template, generation and preprocessor configs.
void write_random_model(const Json& config, const std::string& dir, const RandomModelOptions& options = {});

// Writes the qwen3vl model file `path` that `qwen3vl quantize --quant QUANT`
// (q4, q8 or bf16) would make of the checkpoint write_random_model writes
// for the same config and seed, byte for byte, without writing that
// checkpoint: each tensor is generated, converted and appended in turn (memory
// holds one tensor), through a temporary file renamed into place at the end.
// For shapes whose bf16 checkpoint would not fit on disk (30B-A3B: 61 GB).
void write_random_model_file(const Json& config, const std::string& path, const std::string& quant,
                             const RandomModelOptions& options = {});

// Vision features of images and videos by content (hash of the encoded
// bytes) and preprocessing options, least recently used dropped first once
// `max_bytes` is exceeded. Thread-safe: sessions of one model may share one
// (a server does); a cache never serves one model's features to another.
class EncodingCache {
 public:
  explicit EncodingCache(size_t max_bytes = size_t(256) << 20);
  ~EncodingCache();
  EncodingCache(const EncodingCache&) = delete;
  EncodingCache& operator=(const EncodingCache&) = delete;

  size_t bytes() const;
  size_t entries() const;
  uint64_t hits() const;
  uint64_t misses() const;
  void clear();

  struct Impl;

 private:
  friend class Session;
  std::unique_ptr<Impl> impl_;
};

struct SessionOptions {
  // Shared encoding cache; null gives the session a private one of 64 MiB.
  std::shared_ptr<EncodingCache> encoding_cache;
};

// One image or video of a prepared prompt.
struct MediaInfo {
  std::string kind;                // "image" or "video"
  int64_t grid_t = 0, grid_h = 0, grid_w = 0;  // vision patches (t: frame pairs)
  int64_t tokens = 0;              // prompt rows its features fill
  std::string content_hash;        // XXH3-128 of its encoded bytes, hex
  std::string options_key;         // the preprocessing options that shaped its pixels
  bool encoded = false;            // its features are at hand (encode() ran or found them)
};

// The result of Session::prepare(): token ids with every media placeholder
// expanded, 3-D positions, and the decoded, preprocessed media. Movable, not
// copyable; owned by the caller until prefill.
class PreparedPrompt {
 public:
  PreparedPrompt();
  ~PreparedPrompt();
  PreparedPrompt(PreparedPrompt&&) noexcept;
  PreparedPrompt& operator=(PreparedPrompt&&) noexcept;

  const std::vector<int32_t>& ids() const;
  size_t media_count() const;
  MediaInfo media(size_t index) const;
  int image_tokens() const;
  const StageTimings& timings() const;  // image decode and preprocess so far

  struct Impl;

 private:
  friend class Session;
  std::unique_ptr<Impl> impl_;
};

struct EncodeStats {
  int encoded_media = 0;  // run through the vision encoder now
  int cached_media = 0;   // found in the encoding cache
  int skipped_media = 0;  // wholly inside the reusable cached prefix: not needed
  double ms = 0;
};

struct PrefillStats {
  int64_t reused_tokens = 0;     // taken from the session's cache
  int64_t prefilled_tokens = 0;  // computed now
  double ms = 0;
  bool complete = true;          // the whole prompt is in (false after a prefill_part that left rows)
};

// A conversation's state: its KV cache (what the last prompt and answer left
// in it) and the scratch buffers of its forward passes. Not thread-safe; use
// one Session per concurrent conversation (they may share one Model).
class Session {
 public:
  explicit Session(std::shared_ptr<const Model> model, SessionOptions options = {});
  ~Session();

  // Renders `messages` with the model's chat template, then prepare ->
  // encode -> prefill -> decode steps, sampling each token. `on_text`
  // receives the answer as complete UTF-8 pieces; returning false stops
  // generation. With `capture`, intermediate tensors are reported and the
  // whole prompt is computed afresh (no reuse, no encoding cache).
  GenerationResult generate(const Json& messages, const GenerateOptions& options,
                            const std::function<bool(std::string_view)>& on_text = {},
                            const TensorCapture* capture = nullptr);

  // Stage 1: chat template, tokens, media read, hashed, decoded and
  // preprocessed, placeholders expanded. Throws Error when the prompt does not
  // fit the context. Does not touch the session's cache.
  PreparedPrompt prepare(const Json& messages, const GenerateOptions& options) const;
  // Stage 2: vision features for the media the prefill will compute (those
  // not wholly inside the prefix the session's cache can reuse), from the
  // encoding cache or the vision encoder.
  EncodeStats encode(PreparedPrompt& prompt, const TensorCapture* capture = nullptr);
  // Stage 3: keeps the longest prefix of the cache that matches the prompt
  // (token by token; media rows must also come from the same medium) and
  // computes the rest. At least the last prompt token is always computed, so
  // logits() is that of the prompt's next token.
  PrefillStats prefill(const PreparedPrompt& prompt, const TensorCapture* capture = nullptr);
  // Stage 3 in parts, for a caller that interleaves a long prompt with other
  // work (a server decoding other sessions meanwhile): keeps the prefix as
  // prefill() does (rows an earlier part computed included) and computes at
  // most `max_rows` more. Call again until the result is complete; then
  // logits() is the prompt's next token's. Every part starts max_rows after
  // the previous one, so the rows are computed in the same pieces whatever
  // runs between the calls.
  PrefillStats prefill_part(const PreparedPrompt& prompt, int64_t max_rows);
  // Logits of the next token (valid until the next prefill or decode_step).
  std::span<const float> logits() const;
  // Stage 4: appends `token` to the sequence and computes the next logits.
  void decode_step(int32_t token);
  // Stage 4 for several sessions at once (continuous batching): sessions[i]
  // appends tokens[i], all in one pass over the weights. Each session's
  // logits are bit-identical to what its own decode_step() gives, whatever
  // else is in the batch. The sessions must be distinct and share one Model;
  // throws Error (changing no session) otherwise or when one is full.
  static void decode_together(std::span<Session* const> sessions, std::span<const int32_t> tokens);

  // Tokens whose keys/values the cache holds.
  int64_t cached_tokens() const;
  // Tokens the cache can hold in all (LoadOptions::context_length).
  int64_t context_length() const;
  const Model& model() const;
  // Prompt rows prefill() would keep from this session's cache (a server
  // with several sessions gives a request to the one that keeps the most).
  int64_t reusable_tokens(const PreparedPrompt& prompt) const;
  // Forgets the cache.
  void reset();

  // Relative image paths in the messages resolve against this directory only
  // (a messages file's directory); unset, against the working directory.
  void set_base_dir(const std::string& dir);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// One answer sampled token by token from a session's logits: the loop
// generate() runs after prefill (sampling, EOS, stop strings, max_tokens,
// UTF-8 pieces), opened up so a caller can decode several sessions together.
//
//   Generation g(session, prompt, options, on_text);   // after session.prefill(prompt)
//   while (auto token = g.next()) session.decode_step(*token);
//   GenerationResult r = g.finish();
class Generation {
 public:
  // `session` has just prefilled `prompt`; both must outlive this object.
  Generation(Session& session, const PreparedPrompt& prompt, const GenerateOptions& options,
             std::function<bool(std::string_view)> on_text = {});
  ~Generation();
  Generation(const Generation&) = delete;
  Generation& operator=(const Generation&) = delete;

  // Samples the next token from the session's logits and passes its text
  // on. Returns the token the session must decode before the next call, or
  // nullopt once the answer is complete (EOS, a stop string, max_tokens, a
  // full context, or on_text returned false).
  std::optional<int32_t> next();
  // Passes on the text held back for a possible stop string and returns the
  // answer: output_ids, text, finish_reason, prompt_ids, timings.decode_ms
  // and timings.ttft_ms (from construction to the first token).
  GenerationResult finish();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace qwen3vl
