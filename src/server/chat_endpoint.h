// POST /v1/chat/completions: validate, resolve images, queue the job, then
// answer with one JSON object or an SSE stream of chunks. The status (and
// any error) is decided when the first output arrives, so failures of the
// prompt (too long, bad image) are still proper 4xx answers; the client's
// disconnect cancels the job at any point.
#pragma once

namespace httplib {
struct Request;
struct Response;
}  // namespace httplib

namespace qwen3vl::server {

struct ServerContext;

// Throws ApiError for anything refused before the answer starts.
void handle_chat_completion(ServerContext& ctx, const httplib::Request& req, httplib::Response& res);

}  // namespace qwen3vl::server
