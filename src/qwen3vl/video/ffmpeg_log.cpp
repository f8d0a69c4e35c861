#include "qwen3vl/video/ffmpeg_log.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>

extern "C" {
#include <libavutil/avutil.h>
#include <libavutil/log.h>
}

namespace qwen3vl::ffmpeg {

namespace {

thread_local std::string t_last_message;

void keep_errors(void*, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_ERROR) return;
  char line[512];
  std::vsnprintf(line, sizeof line, fmt, args);
  std::string s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  if (!s.empty()) t_last_message = s;
}

}  // namespace

void quiet_log() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(keep_errors); });
  t_last_message.clear();
}

const std::string& last_log_message() { return t_last_message; }

std::string error_text(int code) {
  char buf[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, buf, sizeof buf);
  std::string s = buf;
  if (!t_last_message.empty()) s += "; " + t_last_message;
  return s;
}

}  // namespace qwen3vl::ffmpeg
