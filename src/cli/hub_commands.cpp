// qwen3vl pull / list: models by name in the Hugging Face cache.
#include <cstdio>
#include <iostream>

#include "args.h"
#include "commands.h"
#include "progress.h"
#include "qwen3vl/base/error.h"
#include "qwen3vl/base/json.h"
#include "qwen3vl/hub.h"

namespace qwen3vl::cli {

namespace {

std::string human_bytes(uint64_t b) {
  char buf[32];
  if (b >= 1000ull * 1000 * 1000) std::snprintf(buf, sizeof buf, "%.2f GB", b / 1e9);
  else if (b >= 1000ull * 1000) std::snprintf(buf, sizeof buf, "%.1f MB", b / 1e6);
  else if (b >= 1000) std::snprintf(buf, sizeof buf, "%.1f kB", b / 1e3);
  else std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(b));
  return buf;
}

}  // namespace

int pull_command(int argc, char** argv) {
  Args args("pull",
            "Downloads a model from the Hugging Face Hub into the Hugging Face cache (shared with huggingface-cli and\n"
            "transformers): only what qwen3vl reads (configs, tokenizer, chat template, safetensors shards), resuming\n"
            "partial files and checking each against the Hub's sha256. Honours HF_ENDPOINT, HF_TOKEN, HF_HOME,\n"
            "HF_HUB_CACHE and HF_HUB_OFFLINE. Afterwards `-m owner/name` works in every command, offline.\n"
            "usage: qwen3vl pull owner/name[@revision]");
  args.flag("-q,--quiet", "no progress bar");
  // The model name comes first: qwen3vl pull NAME [options].
  const bool named = argc > 2 && argv[2][0] != '-';
  if (!args.parse(argc, argv, named ? 3 : 2)) return 0;
  if (!named) throw Error("pull takes a model name: qwen3vl pull owner/name[@revision]");
  const auto name = HubModelName::parse(argv[2]);
  if (!name) throw Error(std::string("'") + argv[2] + "' is not a Hub model name (owner/name or owner/name@revision)");
  const HubSettings settings = HubSettings::from_environment();
  TransferProgress bar(!args.has("quiet"));
  const CachedSnapshot s = pull_model(*name, settings, [&](const PullProgress& p) {
    bar.update(p.file, p.bytes, p.total);
    return true;
  });
  bar.finish();
  std::cout << s.path << "\n";
  return 0;
}

int list_command(int argc, char** argv) {
  Args args("list", "Lists the models in the Hugging Face cache with their sizes and qwen3vl's converted files.");
  args.flag("--json", "one JSON array instead of a table");
  if (!args.parse(argc, argv, 2)) return 0;
  const HubSettings settings = HubSettings::from_environment();
  const auto models = list_cached_models(settings);
  if (args.has("json")) {
    Json out = Json::array();
    for (const auto& m : models)
      out.push_back({{"repo_id", m.repo_id}, {"refs", m.refs}, {"snapshots", m.snapshots}, {"bytes", m.bytes},
                     {"converted", m.converted}});
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (models.empty()) {
    std::cout << "no models in " << settings.cache_root << " (qwen3vl pull owner/name downloads one)\n";
    return 0;
  }
  std::printf("%-44s %10s  %-12s %s\n", "MODEL", "SIZE", "REVISION", "CONVERTED");
  for (const auto& m : models) {
    std::string revisions;
    for (const auto& [ref, commit] : m.refs) revisions += (revisions.empty() ? "" : ",") + ref + "@" + commit.substr(0, 7);
    if (revisions.empty() && !m.snapshots.empty()) revisions = m.snapshots.back().substr(0, 7);
    std::string converted;
    for (const auto& c : m.converted) {
      const size_t slash = c.find_last_of('/');
      converted += (converted.empty() ? "" : ", ") + c.substr(slash + 1, c.find('-', slash) - slash - 1);
    }
    std::printf("%-44s %10s  %-12s %s\n", m.repo_id.c_str(), human_bytes(m.bytes).c_str(), revisions.c_str(),
                converted.empty() ? "-" : converted.c_str());
  }
  return 0;
}

}  // namespace qwen3vl::cli
