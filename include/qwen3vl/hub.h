// Models by name: `owner/name[@revision]` resolved through the Hugging Face
// cache that huggingface-cli and transformers use (offline first), downloaded
// from the Hub into that same cache when missing, and converted once to a
// qwen3vl model file for --quant q4/q8 so later starts only map it.
//
// Cache layout (shared with huggingface_hub):
//   <root>/models--owner--name/blobs/<sha256 or git oid>      file contents
//   <root>/models--owner--name/snapshots/<commit>/<file>      symlinks into blobs/
//   <root>/models--owner--name/refs/<branch or tag>           the commit it points at
// <root>: $HF_HUB_CACHE, else $HF_HOME/hub, else $XDG_CACHE_HOME/huggingface/hub,
// else ~/.cache/huggingface/hub.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qwen3vl {

struct HubSettings {
  std::string endpoint;    // Hub address; from $HF_ENDPOINT, default https://huggingface.co
  std::string token;       // from $HF_TOKEN, else the file huggingface-cli login writes ($HF_HOME/token)
  std::string cache_root;  // see above
  bool offline = false;    // $HF_HUB_OFFLINE=1: never touch the network
  // Settings from the environment, as huggingface_hub reads them.
  static HubSettings from_environment();
};

// `owner/name` or `owner/name@revision` (branch, tag or 40-hex commit).
struct HubModelName {
  std::string repo_id;            // owner/name
  std::string revision = "main";
  // Nullopt unless `text` has that shape (Hub naming rules: letters, digits,
  // '-', '_', '.'; no "--" or ".." sequences; no leading/trailing '-' or '.').
  static std::optional<HubModelName> parse(std::string_view text);
  std::string str() const { return revision == "main" ? repo_id : repo_id + "@" + revision; }
};

struct PullProgress {
  std::string file;           // the file being transferred
  uint64_t file_bytes = 0, file_total = 0;
  uint64_t bytes = 0, total = 0;  // over every file of the pull (already-cached files count as done)
};
// Return false to cancel (the partial file stays, to be resumed).
using PullProgressFn = std::function<bool(const PullProgress&)>;

struct CachedSnapshot {
  std::string repo_id;
  std::string commit;
  std::string path;  // <root>/models--owner--name/snapshots/<commit>
};

// The snapshot `name` refers to, if the cache holds it with a config.json.
std::optional<CachedSnapshot> find_cached_model(const HubModelName& name, const HubSettings& settings);

// Downloads what a model needs (configs, tokenizer, chat template, safetensors
// shards; no other weight formats) into the cache: resumes partial files,
// checks each file against the Hub's sha256 (LFS) or git object id, refuses
// corrupt transfers, links the snapshot and records the ref. Files already in
// the cache are not fetched again. Throws Error explaining 401/403 (gated or
// private model: set HF_TOKEN), 404 and network failures.
CachedSnapshot pull_model(const HubModelName& name, const HubSettings& settings, const PullProgressFn& progress = {});

struct CachedModelInfo {
  std::string repo_id;
  std::map<std::string, std::string> refs;  // ref name -> commit
  std::vector<std::string> snapshots;       // commits with a complete snapshot (config.json present)
  uint64_t bytes = 0;                       // blobs on disk
  std::vector<std::string> converted;       // qwen3vl model files made from it (paths)
};
std::vector<CachedModelInfo> list_cached_models(const HubSettings& settings);

// What `-m` names, ready to load: an existing path is used as given; an
// `owner/name[@revision]` is found in the Hub cache, pulled when missing
// (unless offline), and with quant "q4"/"q8"/"bf16" converted once to a qwen3vl
// model file kept in qwen3vl's cache, keyed by the snapshot commit, the quant
// and the model-file format version.
struct ResolvedModel {
  std::string path;        // directory or model file to pass to Model::load
  std::string repo_id;     // empty for a plain path
  std::string commit;
  bool converted = false;  // path is a cached converted model file (load it with weights "auto")
};
struct ResolveCallbacks {
  PullProgressFn pull_progress;
  std::function<void(uint64_t, uint64_t)> convert_progress;  // source bytes done, total
  std::function<void(const std::string&)> notice;            // one-line messages (pulling, converting)
};
ResolvedModel resolve_model(const std::string& path_or_name, const std::string& quant, const HubSettings& settings,
                            const ResolveCallbacks& callbacks = {});

}  // namespace qwen3vl
