// FFmpeg reports problems through one process-wide log. The library installs
// a handler once that keeps the last error message of each thread (to explain
// an Error) and prints nothing: a server must not spray codec chatter on
// stderr.
#pragma once
#include <string>

namespace qwen3vl::ffmpeg {

// Installs the handler (idempotent, thread-safe) and clears this thread's
// last message.
void quiet_log();

// This thread's last FFmpeg error message since quiet_log(), or "".
const std::string& last_log_message();

// av_strerror's text for `code`, with the last log message when there is one.
std::string error_text(int code);

}  // namespace qwen3vl::ffmpeg
