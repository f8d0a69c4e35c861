#include "qwen3vl/hub/hub_http.h"

#include <curl/curl.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <mutex>

#include "qwen3vl/base/error.h"

namespace qwen3vl::hub {

namespace {

constexpr size_t kMaxJsonBytes = 64u << 20;  // a model's file list is a few KB; refuse absurd answers
constexpr int kDownloadAttempts = 4;

void init_curl_once() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

using Curl = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
using Headers = std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)>;

// What one transfer saw: the last response's status and Hub error headers,
// and (for API calls, or an error response's body) the body text.
struct Response {
  long status = 0;
  std::string error_code, error_message;  // X-Error-Code / X-Error-Message
  std::string body;
  size_t body_limit = kMaxJsonBytes;
  bool too_big = false;
  FILE* file = nullptr;  // success bodies of downloads go here
  uint64_t file_bytes = 0;
  const std::function<bool(uint64_t)>* on_bytes = nullptr;
  uint64_t resume_from = 0;
  bool cancelled = false;
};

size_t on_header(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {  // a new response (after a redirect): forget the previous one's headers
    const size_t sp = line.find(' ');
    r->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
    r->error_code.clear();
    r->error_message.clear();
    return size * n;
  }
  const size_t colon = line.find(':');
  if (colon == std::string::npos) return size * n;
  std::string key = line.substr(0, colon), value = line.substr(colon + 1);
  for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  while (!value.empty() && value.front() == ' ') value.erase(0, 1);
  if (key == "x-error-code") r->error_code = value;
  if (key == "x-error-message") r->error_message = value;
  return size * n;
}

bool success(long status) { return status == 200 || status == 206; }

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* r = static_cast<Response*>(user);
  const size_t bytes = size * n;
  if (r->file && success(r->status)) {
    if (std::fwrite(data, 1, bytes, r->file) != bytes) return 0;
    r->file_bytes += bytes;
    if (r->on_bytes && !(*r->on_bytes)(r->resume_from + r->file_bytes)) {
      r->cancelled = true;
      return 0;
    }
    return bytes;
  }
  if (r->body.size() + bytes > r->body_limit) {
    r->too_big = true;
    return 0;
  }
  r->body.append(data, bytes);
  return bytes;
}

Curl make_request(const HubSettings& s, const std::string& url, Response& r, Headers& headers) {
  init_curl_once();
  Curl curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) throw Error("cannot start an HTTP client (libcurl)");
  CURL* c = curl.get();
  curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(c, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
  // A stalled transfer (under 1 KB/s for a minute) is a failure, not a hang.
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "qwen3vl");
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  // libcurl sends this header only to the original host, not to the CDN a
  // download is redirected to.
  if (!s.token.empty()) headers.reset(curl_slist_append(headers.release(), ("Authorization: Bearer " + s.token).c_str()));
  if (headers) curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
  return curl;
}

// An Error for a failed HTTP answer, worded for what a user can do about it.
Error http_error(const HubSettings& s, const Response& r, const std::string& what) {
  const std::string login = " Set HF_TOKEN to an access token of an account that may read it (huggingface-cli login "
                            "writes one too).";
  if (r.error_code == "GatedRepo")
    return Error(what + " is gated (HTTP " + std::to_string(r.status) + "): accept its conditions on its page at " +
                 s.endpoint + " while logged in." + (s.token.empty() ? login : " The token given has no access yet."));
  if (r.error_code == "RepoNotFound")
    return Error(what + " was not found on " + s.endpoint + " (HTTP " + std::to_string(r.status) +
                 "): check the name, or, if it is private," + (s.token.empty() ? login : " that the token may read it."));
  if (r.error_code == "RevisionNotFound")
    return Error(what + ": no such revision (HTTP " + std::to_string(r.status) + ")");
  if (r.error_code == "EntryNotFound") return Error(what + ": no such file (HTTP " + std::to_string(r.status) + ")");
  if (r.status == 401 || r.status == 403)
    return Error(what + ": access denied (HTTP " + std::to_string(r.status) + "); the model may be gated or private." +
                 (s.token.empty() ? login : " The token given is not accepted for it."));
  if (r.status == 404) return Error(what + " was not found (HTTP 404)");
  std::string detail = r.error_message.empty() ? "" : ": " + r.error_message;
  return Error(what + ": the Hub answered HTTP " + std::to_string(r.status) + detail);
}

Error transfer_error(CURLcode code, const std::string& url, const std::string& what) {
  return Error(what + ": " + curl_easy_strerror(code) + " (" + url + ")");
}

}  // namespace

std::string url_encode_path(const std::string& path) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

Json get_json(const HubSettings& s, const std::string& path, const std::string& what) {
  const std::string url = s.endpoint + path;
  Response r;
  Headers headers(nullptr, curl_slist_free_all);
  Curl curl = make_request(s, url, r, headers);
  const CURLcode code = curl_easy_perform(curl.get());
  if (r.too_big) throw Error(what + ": the Hub's answer is over " + std::to_string(kMaxJsonBytes >> 20) + " MB");
  if (code != CURLE_OK) throw transfer_error(code, url, what);
  if (!success(r.status)) throw http_error(s, r, what);
  return parse_json(r.body, what + " (" + url + ")");
}

void download_file(const HubSettings& s, const std::string& path, const std::string& partial, uint64_t expected_size,
                   const std::string& what, const std::function<bool(uint64_t)>& on_bytes) {
  const std::string url = s.endpoint + path;
  for (int attempt = 1;; ++attempt) {
    struct stat st {};
    uint64_t have = ::stat(partial.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
    if (have > expected_size) {  // not a prefix of this file: start over
      std::remove(partial.c_str());
      have = 0;
    }
    if (have == expected_size && expected_size > 0) return;
    Response r;
    r.on_bytes = &on_bytes;
    r.resume_from = have;
    r.body_limit = 1 << 20;  // error pages only
    std::unique_ptr<FILE, decltype(&std::fclose)> file(std::fopen(partial.c_str(), have ? "ab" : "wb"), std::fclose);
    if (!file) throw Error("cannot write " + partial);
    r.file = file.get();
    Headers headers(nullptr, curl_slist_free_all);
    Curl curl = make_request(s, url, r, headers);
    if (have) curl_easy_setopt(curl.get(), CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(have));
    const CURLcode code = curl_easy_perform(curl.get());
    file.reset();
    if (r.cancelled) throw Error(what + ": cancelled (the partial download is kept and resumes next time)");
    if (code == CURLE_OK && r.status == 200 && have) {
      // The server ignored the Range request and sent the whole file after
      // the prefix we had: start over from the bytes it sent.
      std::remove(partial.c_str());
      if (attempt < kDownloadAttempts) continue;
    }
    if (code == CURLE_OK && !success(r.status)) throw http_error(s, r, what);
    if (code == CURLE_OK) {
      const uint64_t got = ::stat(partial.c_str(), &st) == 0 ? static_cast<uint64_t>(st.st_size) : 0;
      if (got == expected_size) return;
      if (got > expected_size)
        throw Error(what + ": received " + std::to_string(got) + " bytes, but the Hub lists " +
                    std::to_string(expected_size));
    }
    // Interrupted (partial transfer, reset, stall): resume from what arrived.
    const bool retryable = code == CURLE_OK || code == CURLE_PARTIAL_FILE || code == CURLE_RECV_ERROR ||
                           code == CURLE_OPERATION_TIMEDOUT || code == CURLE_GOT_NOTHING ||
                           code == CURLE_COULDNT_CONNECT || code == CURLE_SEND_ERROR;
    if (!retryable || attempt >= kDownloadAttempts) {
      if (code != CURLE_OK) throw transfer_error(code, url, what);
      throw Error(what + ": the transfer ended early after " + std::to_string(attempt) +
                  " attempts (the partial download is kept and resumes next time)");
    }
  }
}

}  // namespace qwen3vl::hub
