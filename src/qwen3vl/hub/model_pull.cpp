// pull: the Hub's file list for a revision, the files a model needs, each
// downloaded (resumable), checked against the Hub's digests and linked into
// the shared cache layout.
#include <sys/file.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "qwen3vl/base/error.h"
#include "qwen3vl/hub.h"
#include "qwen3vl/hub/file_digest.h"
#include "qwen3vl/hub/hub_cache.h"
#include "qwen3vl/hub/hub_http.h"

namespace fs = std::filesystem;

namespace qwen3vl {

namespace {

// What the engine reads from a checkpoint; other formats (.bin, .gguf, onnx/,
// ...) and docs are skipped.
bool needed_file(const std::string& name) {
  static const std::set<std::string> kConfigs = {
      "config.json",          "generation_config.json",       "preprocessor_config.json",
      "tokenizer.json",       "tokenizer_config.json",        "video_preprocessor_config.json",
      "chat_template.json",   "chat_template.jinja",          "model.safetensors.index.json",
      "special_tokens_map.json"};
  if (name.find('/') != std::string::npos) return false;
  if (kConfigs.count(name)) return true;
  const std::string ext = ".safetensors";
  return name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0;
}

struct HubFile {
  std::string name;
  uint64_t size = 0;
  std::string blob_id;  // sha256 for LFS files, git object id otherwise (as huggingface_hub names blobs)
  bool lfs = false;
};

std::vector<HubFile> needed_files(const Json& info, const std::string& what) {
  if (!info.contains("siblings") || !info["siblings"].is_array())
    throw Error(what + ": the Hub's answer lists no files");
  std::vector<HubFile> files;
  bool has_config = false, has_weights = false;
  for (const Json& s : info["siblings"]) {
    if (!s.is_object() || !s.contains("rfilename") || !s["rfilename"].is_string()) continue;
    HubFile f;
    f.name = s["rfilename"].get<std::string>();
    if (!needed_file(f.name)) continue;
    const Json* lfs = s.contains("lfs") && s["lfs"].is_object() ? &s["lfs"] : nullptr;
    if (lfs && (*lfs).contains("sha256") && (*lfs)["sha256"].is_string()) {
      f.lfs = true;
      f.blob_id = (*lfs)["sha256"].get<std::string>();
      if ((*lfs).contains("size") && (*lfs)["size"].is_number_unsigned()) f.size = (*lfs)["size"].get<uint64_t>();
    } else if (s.contains("blobId") && s["blobId"].is_string()) {
      f.blob_id = s["blobId"].get<std::string>();
    }
    if (s.contains("size") && s["size"].is_number_unsigned()) f.size = s["size"].get<uint64_t>();
    // The id becomes a file name: hex only.
    if (f.blob_id.empty() || f.blob_id.size() > 64 ||
        f.blob_id.find_first_not_of("0123456789abcdef") != std::string::npos)
      throw Error(what + ": the Hub lists no usable digest for " + f.name);
    has_config |= f.name == "config.json";
    has_weights |= f.name.find(".safetensors") != std::string::npos && f.name.find(".json") == std::string::npos;
    files.push_back(std::move(f));
  }
  if (!has_config) throw Error(what + " has no config.json: not a Hugging Face Transformers checkpoint");
  if (!has_weights)
    throw Error(what + " has no .safetensors weights (only other formats, which qwen3vl does not read)");
  return files;
}

// Serialises two pulls of the same blob (two terminals, or a server and a
// chat starting together), as huggingface_hub's .locks folder does.
class BlobLock {
 public:
  BlobLock(const std::string& cache_root, const std::string& repo_dir, const std::string& blob_id) {
    const fs::path dir = fs::path(cache_root) / ".locks" / fs::path(repo_dir).filename();
    fs::create_directories(dir);
    fd_ = ::open((dir / (blob_id + ".lock")).c_str(), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
    if (fd_ >= 0) ::flock(fd_, LOCK_EX);
  }
  ~BlobLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  BlobLock(const BlobLock&) = delete;
  BlobLock& operator=(const BlobLock&) = delete;

 private:
  int fd_ = -1;
};

bool has_size(const std::string& path, uint64_t size) {
  std::error_code ec;
  return fs::is_regular_file(path, ec) && fs::file_size(path, ec) == size;
}

}  // namespace

CachedSnapshot pull_model(const HubModelName& name, const HubSettings& settings, const PullProgressFn& progress) {
  const std::string what = "model " + name.str();
  if (settings.offline) throw Error("cannot download " + name.str() + ": HF_HUB_OFFLINE is set");
  const Json info = hub::get_json(
      settings, "/api/models/" + name.repo_id + "/revision/" + hub::url_encode_path(name.revision) + "?blobs=true",
      what);
  const std::string commit = info.contains("sha") && info["sha"].is_string() ? info["sha"].get<std::string>() : "";
  if (!hub::is_commit_hash(commit)) throw Error(what + ": the Hub's answer has no commit id");
  const std::vector<HubFile> files = needed_files(info, what);

  const std::string repo_dir = hub::repo_folder(settings.cache_root, name.repo_id);
  fs::create_directories(repo_dir + "/blobs");
  PullProgress p;
  for (const auto& f : files) p.total += f.size;
  for (const auto& f : files) {
    const std::string blob = hub::blob_path(repo_dir, f.blob_id);
    p.file = f.name;
    p.file_total = f.size;
    p.file_bytes = 0;
    BlobLock lock(settings.cache_root, repo_dir, f.blob_id);
    if (!has_size(blob, f.size)) {
      const std::string partial = blob + ".incomplete";
      const uint64_t before = p.bytes;
      hub::download_file(settings, "/" + name.repo_id + "/resolve/" + commit + "/" + hub::url_encode_path(f.name),
                         partial, f.size, f.name + " of " + name.str(), [&](uint64_t bytes) {
                           p.file_bytes = bytes;
                           p.bytes = before + bytes;
                           return !progress || progress(p);
                         });
      const std::string digest = f.lfs ? hub::file_sha256(partial) : hub::file_git_blob_id(partial);
      if (digest != f.blob_id) {
        std::remove(partial.c_str());
        throw Error(f.name + " of " + name.str() + " arrived corrupt: its " + (f.lfs ? "sha256" : "git object id") +
                    " is " + digest + ", the Hub lists " + f.blob_id + " (the download was deleted; pull again)");
      }
      fs::rename(partial, blob);
      p.bytes = before;
    }
    hub::link_snapshot_file(repo_dir, commit, f.name, f.blob_id);
    p.bytes += f.size;
    p.file_bytes = f.size;
    if (progress) progress(p);
  }
  if (name.revision != commit) hub::write_ref(repo_dir, name.revision, commit);
  return CachedSnapshot{name.repo_id, commit, repo_dir + "/snapshots/" + commit};
}

}  // namespace qwen3vl
