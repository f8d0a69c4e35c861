#include "qwen3vl/hub/hub_cache.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "qwen3vl/base/error.h"

namespace fs = std::filesystem;

namespace qwen3vl {

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string read_token_file(const std::string& path) {
  std::ifstream in(path);
  std::string token;
  std::getline(in, token);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  return token;
}

}  // namespace

HubSettings HubSettings::from_environment() {
  HubSettings s;
  s.endpoint = env("HF_ENDPOINT");
  if (s.endpoint.empty()) s.endpoint = "https://huggingface.co";
  while (!s.endpoint.empty() && s.endpoint.back() == '/') s.endpoint.pop_back();
  std::string hf_home = env("HF_HOME");
  if (hf_home.empty()) {
    const std::string xdg = env("XDG_CACHE_HOME");
    hf_home = (xdg.empty() ? env("HOME") + "/.cache" : xdg) + "/huggingface";
  }
  s.cache_root = env("HF_HUB_CACHE");
  if (s.cache_root.empty()) s.cache_root = env("HUGGINGFACE_HUB_CACHE");
  if (s.cache_root.empty()) s.cache_root = hf_home + "/hub";
  s.token = env("HF_TOKEN");
  if (s.token.empty()) s.token = env("HUGGING_FACE_HUB_TOKEN");
  if (s.token.empty()) {
    const std::string token_path = env("HF_TOKEN_PATH");
    s.token = read_token_file(token_path.empty() ? hf_home + "/token" : token_path);
  }
  const std::string offline = env("HF_HUB_OFFLINE");
  s.offline = offline == "1" || offline == "true" || offline == "TRUE" || offline == "yes";
  return s;
}

namespace hub {

std::string repo_folder(const std::string& cache_root, const std::string& repo_id) {
  std::string name = "models--" + repo_id;
  for (size_t p = name.find('/'); p != std::string::npos; p = name.find('/', p + 2)) name.replace(p, 1, "--");
  return cache_root + "/" + name;
}

std::optional<std::string> repo_id_from_folder(const std::string& folder) {
  const std::string prefix = "models--";
  if (folder.rfind(prefix, 0) != 0) return std::nullopt;
  std::string rest = folder.substr(prefix.size());
  const size_t sep = rest.find("--");
  if (sep == std::string::npos) return std::nullopt;
  return rest.substr(0, sep) + "/" + rest.substr(sep + 2);
}

bool is_commit_hash(const std::string& s) {
  if (s.size() != 40) return false;
  for (char c : s)
    if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) return false;
  return true;
}

std::optional<std::string> resolve_revision(const std::string& repo_dir, const std::string& revision) {
  if (is_commit_hash(revision)) return revision;
  std::ifstream in(repo_dir + "/refs/" + revision);
  if (!in) return std::nullopt;
  std::string commit;
  std::getline(in, commit);
  if (!is_commit_hash(commit)) return std::nullopt;
  return commit;
}

void write_ref(const std::string& repo_dir, const std::string& revision, const std::string& commit) {
  const fs::path ref = fs::path(repo_dir) / "refs" / revision;
  fs::create_directories(ref.parent_path());
  const fs::path tmp = ref.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    out << commit;
    if (!out) throw Error("cannot write " + tmp.string());
  }
  fs::rename(tmp, ref);
}

std::string blob_path(const std::string& repo_dir, const std::string& blob_id) {
  return repo_dir + "/blobs/" + blob_id;
}

void link_snapshot_file(const std::string& repo_dir, const std::string& commit, const std::string& file,
                        const std::string& blob_id) {
  const fs::path link = fs::path(repo_dir) / "snapshots" / commit / file;
  fs::create_directories(link.parent_path());
  // From snapshots/<commit>/<dirs...>/ back up to the repo folder.
  std::string up = "../../";
  for (char c : file)
    if (c == '/') up += "../";
  std::error_code ec;
  fs::remove(link, ec);
  fs::create_symlink(up + "blobs/" + blob_id, link);
}

}  // namespace hub

std::optional<CachedSnapshot> find_cached_model(const HubModelName& name, const HubSettings& settings) {
  const std::string repo_dir = hub::repo_folder(settings.cache_root, name.repo_id);
  const auto commit = hub::resolve_revision(repo_dir, name.revision);
  if (!commit) return std::nullopt;
  const std::string snapshot = repo_dir + "/snapshots/" + *commit;
  std::error_code ec;
  if (!fs::exists(snapshot + "/config.json", ec)) return std::nullopt;
  return CachedSnapshot{name.repo_id, *commit, snapshot};
}

}  // namespace qwen3vl
