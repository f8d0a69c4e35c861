#include "server/remote_image_fetch.h"

#include <curl/curl.h>

#include <memory>
#include <mutex>

#include "server/api_error.h"

namespace qwen3vl::server {

namespace {

struct Download {
  std::vector<uint8_t> bytes;
  int64_t max_bytes = 0;
  bool too_large = false;
};

size_t on_data(char* data, size_t size, size_t count, void* user) {
  auto* d = static_cast<Download*>(user);
  const size_t n = size * count;
  if (static_cast<int64_t>(d->bytes.size() + n) > d->max_bytes) {
    d->too_large = true;
    return 0;  // anything but n aborts the transfer
  }
  d->bytes.insert(d->bytes.end(), data, data + n);
  return n;
}

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

std::vector<uint8_t> fetch_remote_image(const std::string& url, const RemoteFetchLimits& limits) {
  init_curl_once();
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw ApiError(500, "server_error", "could not start a download (libcurl)");
  Download d;
  d.max_bytes = limits.max_bytes;
  char error[CURL_ERROR_SIZE] = {0};
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(limits.max_redirects));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(limits.timeout_ms));
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(std::min(limits.timeout_ms, 5000)));
  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(limits.max_bytes));
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);  // many threads; no SIGALRM for DNS timeouts
  curl_easy_setopt(c, CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "qwen3vl-server");
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &d);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error);
  const CURLcode rc = curl_easy_perform(c);
  if (d.too_large || rc == CURLE_FILESIZE_EXCEEDED)
    throw invalid_request("image " + url + " is larger than the limit of " + std::to_string(limits.max_bytes) +
                              " bytes",
                          "messages", "image_too_large");
  if (rc != CURLE_OK) {
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    std::string why = error[0] ? error : curl_easy_strerror(rc);
    if (rc == CURLE_HTTP_RETURNED_ERROR) why = "the server answered HTTP " + std::to_string(status);
    if (rc == CURLE_OPERATION_TIMEDOUT)
      why = "no complete answer within " + std::to_string(limits.timeout_ms) + " ms";
    throw invalid_request("could not download image " + url + ": " + why, "messages", "image_download_failed");
  }
  if (d.bytes.empty()) throw invalid_request("image " + url + " is empty", "messages", "invalid_image");
  return std::move(d.bytes);
}

}  // namespace qwen3vl::server
