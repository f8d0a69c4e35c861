// Where a request's images may come from, enforced before anything is
// decoded: data: URIs always; local files only inside --allow-local-images
// (judged after resolving symlinks and "..", so a link cannot lead out, and
// judged again on the opened file, so a link swapped in meanwhile cannot either);
// http(s) URLs only with --allow-remote-images. Every accepted image ends up
// as a data: URI holding its bytes, so what is checked is exactly what the
// model sees (no second open of a path that could have changed).
#pragma once
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "qwen3vl/base/json.h"
#include "server/server_options.h"

namespace qwen3vl::server {

// Downloads a URL (remote_image_fetch.h in the server; a stub in tests).
using RemoteFetcher = std::function<std::vector<uint8_t>(const std::string& url)>;

// Rewrites every image reference in `messages` (OpenAI "image_url" parts and
// the "image" part form) and every video reference ("video_url" parts, the
// "video" form; frame lists are refused) to a data: URI under the same rules
// and byte limit. Returns the number of images and videos.
// Throws ApiError 400 naming the message, the part and the reason.
int resolve_image_sources(Json& messages, const ImageSourcePolicy& policy, const RemoteFetcher& fetch);

// Tests only: when set, called after a local path passed its check and before
// it is opened, so a test can swap a path component exactly in that window.
// Not synchronised: set it while no request is being resolved.
void set_local_open_hook_for_tests(std::function<void()> hook);

}  // namespace qwen3vl::server
