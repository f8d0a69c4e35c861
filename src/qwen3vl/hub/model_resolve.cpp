// -m by name: a local path as given, else the Hub cache (pulling when
// missing), and for --quant a converted model file cached per snapshot.
#include <filesystem>

#include "qwen3vl/base/cache_dir.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/hub.h"
#include "qwen3vl/hub/hub_cache.h"
#include "qwen3vl/runtime/model_file.h"

namespace fs = std::filesystem;

namespace qwen3vl {

namespace {

// <qwen3vl cache>/converted/models--owner--name: converted files of one repo.
std::string converted_folder(const std::string& repo_id) {
  return hub::repo_folder(qwen3vl_cache_dir() + "/converted", repo_id);
}

uint64_t folder_bytes(const fs::path& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); it.increment(ec))
    if (it->is_regular_file(ec)) total += it->file_size(ec);
  return total;
}

}  // namespace

std::vector<CachedModelInfo> list_cached_models(const HubSettings& settings) {
  std::vector<CachedModelInfo> models;
  std::error_code ec;
  for (auto it = fs::directory_iterator(settings.cache_root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    const auto repo_id = hub::repo_id_from_folder(it->path().filename().string());
    if (!repo_id || !it->is_directory(ec)) continue;
    CachedModelInfo m;
    m.repo_id = *repo_id;
    const fs::path refs = it->path() / "refs";
    std::error_code e2;
    for (auto r = fs::recursive_directory_iterator(refs, e2); !e2 && r != fs::recursive_directory_iterator();
         r.increment(e2))
      if (r->is_regular_file(e2)) {
        const std::string ref = fs::relative(r->path(), refs, e2).string();
        if (const auto commit = hub::resolve_revision(it->path().string(), ref)) m.refs[ref] = *commit;
      }
    for (auto s = fs::directory_iterator(it->path() / "snapshots", e2); !e2 && s != fs::directory_iterator();
         s.increment(e2))
      if (fs::exists(s->path() / "config.json", e2)) m.snapshots.push_back(s->path().filename().string());
    std::sort(m.snapshots.begin(), m.snapshots.end());
    m.bytes = folder_bytes(it->path() / "blobs");
    for (auto c = fs::recursive_directory_iterator(converted_folder(m.repo_id), e2);
         !e2 && c != fs::recursive_directory_iterator(); c.increment(e2))
      if (c->is_regular_file(e2) && c->path().extension() == ".qwen3vl") m.converted.push_back(c->path().string());
    std::sort(m.converted.begin(), m.converted.end());
    models.push_back(std::move(m));
  }
  std::sort(models.begin(), models.end(), [](const auto& a, const auto& b) { return a.repo_id < b.repo_id; });
  return models;
}

ResolvedModel resolve_model(const std::string& path_or_name, const std::string& quant, const HubSettings& settings,
                            const ResolveCallbacks& callbacks) {
  std::error_code ec;
  const auto name = HubModelName::parse(path_or_name);
  if (!name || fs::exists(path_or_name, ec)) return ResolvedModel{path_or_name, "", "", false};
  auto notice = [&](const std::string& text) {
    if (callbacks.notice) callbacks.notice(text);
  };
  std::optional<CachedSnapshot> snapshot = find_cached_model(*name, settings);
  if (!snapshot) {
    if (settings.offline)
      throw Error(path_or_name + " is neither a local path nor in the Hugging Face cache at " + settings.cache_root +
                  " (HF_HUB_OFFLINE is set, so it is not downloaded)");
    notice("downloading " + name->str() + " from " + settings.endpoint + " into " + settings.cache_root);
    snapshot = pull_model(*name, settings, callbacks.pull_progress);
  }
  ResolvedModel resolved{snapshot->path, snapshot->repo_id, snapshot->commit, false};
  if (quant == "q4" || quant == "q8" || quant == "bf16") {
    const std::string file = converted_folder(name->repo_id) + "/" + snapshot->commit + "/" + quant + "-" +
                             model_file_compatibility_key() + ".qwen3vl";
    if (!fs::exists(file, ec)) {
      notice("converting " + name->str() + " to " + quant + " once; later starts map " + file);
      fs::create_directories(fs::path(file).parent_path());
      QuantizeOptions options;
      options.quant = quant;
      options.progress = callbacks.convert_progress;
      write_model_file(snapshot->path, file, options);
    }
    resolved.path = file;
    resolved.converted = true;
  }
  return resolved;
}

}  // namespace qwen3vl
