// The Hugging Face cache layout on disk (see include/qwen3vl/hub.h): folder
// names, refs, blobs and snapshot links, read and written the way
// huggingface_hub does so either tool finds the other's downloads.
#pragma once
#include <optional>
#include <string>

#include "qwen3vl/hub.h"

namespace qwen3vl::hub {

// <root>/models--owner--name
std::string repo_folder(const std::string& cache_root, const std::string& repo_id);
// models--owner--name -> owner/name (nullopt for other folders)
std::optional<std::string> repo_id_from_folder(const std::string& folder_name);

// The commit a revision names: itself when it is a 40-hex commit, else the
// content of refs/<revision>; nullopt when unknown.
std::optional<std::string> resolve_revision(const std::string& repo_dir, const std::string& revision);
void write_ref(const std::string& repo_dir, const std::string& revision, const std::string& commit);

bool is_commit_hash(const std::string& s);

// blobs/<id>, and the snapshot link snapshots/<commit>/<file> pointing at it
// by a relative path (replacing a stale link).
std::string blob_path(const std::string& repo_dir, const std::string& blob_id);
void link_snapshot_file(const std::string& repo_dir, const std::string& commit, const std::string& file,
                        const std::string& blob_id);

}  // namespace qwen3vl::hub
