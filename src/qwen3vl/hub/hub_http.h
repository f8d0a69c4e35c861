// The Hub's HTTP side over libcurl: JSON API calls and resumable file
// downloads, with the Hub's error codes turned into messages a user can act on.
#pragma once
#include <cstdint>
#include <functional>
#include <string>

#include "qwen3vl/base/json.h"
#include "qwen3vl/hub.h"

namespace qwen3vl::hub {

// GET <settings.endpoint><path> with the token; parses the JSON answer.
// `what` names the request in errors ("model Qwen/Qwen3-VL-4B-Instruct").
Json get_json(const HubSettings& settings, const std::string& path, const std::string& what);

// Downloads <settings.endpoint><path> (following redirects) into `partial`,
// resuming from its current size with a Range request when it already holds
// a prefix, retrying interrupted transfers a few times. `on_bytes` gets the
// file's total bytes so far and returns false to cancel. Throws Error on HTTP
// errors, network failures, cancellation or a size other than `expected_size`.
void download_file(const HubSettings& settings, const std::string& path, const std::string& partial,
                   uint64_t expected_size, const std::string& what,
                   const std::function<bool(uint64_t)>& on_bytes);

// Percent-encodes a path segment (file names may hold spaces and the like).
std::string url_encode_path(const std::string& path);

}  // namespace qwen3vl::hub
