// Content checks for downloaded files: the Hub lists each LFS file's sha256
// and each small file's git object id (sha1 of "blob <size>\0" + content).
#pragma once
#include <string>

namespace qwen3vl::hub {

// Lower-case hex digests of a file's content; throw Error if it can't be read.
std::string file_sha256(const std::string& path);
std::string file_git_blob_id(const std::string& path);

}  // namespace qwen3vl::hub
