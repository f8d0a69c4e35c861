// A Hugging Face Hub imitation on loopback for the pull/cache tests: the
// model-info API with file sizes, git object ids and LFS sha256, resolve URLs
// that redirect LFS files to a CDN path, X-Repo-Commit / ETag headers, Range
// requests, Hub error codes (RepoNotFound, GatedRepo), and faults on demand:
// a transfer cut off midway, a corrupted body.
#pragma once
#include <httplib.h>
#include <openssl/evp.h>

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

class MockHub {
 public:
  struct Repo {
    std::string commit;
    std::map<std::string, std::string> files;  // name -> content
    bool gated = false;
  };

  MockHub() {
    using httplib::Request;
    using httplib::Response;
    server_.Get(R"(/api/models/([^/]+)/([^/]+)/revision/([^/?]+))", [this](const Request& req, Response& res) {
      log(req);
      const Repo* repo = authorised(req, res, req.matches[1].str() + "/" + req.matches[2].str());
      if (!repo) return;
      if (req.matches[3] != "main" && req.matches[3] != repo->commit) {
        res.status = 404;
        res.set_header("X-Error-Code", "RevisionNotFound");
        return;
      }
      std::string siblings;
      for (const auto& [name, content] : repo->files) {
        std::string s = "{\"rfilename\":\"" + name + "\",\"size\":" + std::to_string(content.size()) +
                        ",\"blobId\":\"" + git_oid(content) + "\"";
        if (is_lfs(name))
          s += ",\"lfs\":{\"sha256\":\"" + sha256(content) + "\",\"size\":" + std::to_string(content.size()) +
               ",\"pointerSize\":134}";
        siblings += (siblings.empty() ? "" : ",") + s + "}";
      }
      res.set_content("{\"id\":\"" + req.matches[1].str() + "/" + req.matches[2].str() + "\",\"sha\":\"" +
                          repo->commit + "\",\"siblings\":[" + siblings + "]}",
                      "application/json");
    });
    server_.Get(R"(/([^/]+)/([^/]+)/resolve/([^/]+)/(.+))", [this](const Request& req, Response& res) {
      log(req);
      const Repo* repo = authorised(req, res, req.matches[1].str() + "/" + req.matches[2].str());
      if (!repo) return;
      const auto it = repo->files.find(req.matches[4]);
      if (it == repo->files.end()) {
        res.status = 404;
        res.set_header("X-Error-Code", "EntryNotFound");
        return;
      }
      res.set_header("X-Repo-Commit", repo->commit);
      if (is_lfs(it->first)) {
        const std::string sha = sha256(it->second);
        res.set_header("X-Linked-Etag", "\"" + sha + "\"");
        res.set_header("X-Linked-Size", std::to_string(it->second.size()));
        res.set_redirect("/cdn/" + sha, 302);
        return;
      }
      res.set_header("ETag", "\"" + git_oid(it->second) + "\"");
      serve(it->first, it->second, res);
    });
    server_.Get(R"(/cdn/([0-9a-f]+))", [this](const Request& req, Response& res) {
      log(req);
      std::lock_guard<std::mutex> lock(mutex_);
      for (const auto& [id, repo] : repos_)
        for (const auto& [name, content] : repo.files)
          if (sha256(content) == req.matches[1]) {
            res.set_header("ETag", "\"" + req.matches[1].str() + "\"");
            serve_locked(name, content, res);
            return;
          }
      res.status = 404;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~MockHub() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  void add_repo(const std::string& id, Repo repo) {
    std::lock_guard<std::mutex> lock(mutex_);
    repos_[id] = std::move(repo);
  }
  void set_token(const std::string& t) { token_ = t; }
  // The next transfer of `file` stops after half its bytes.
  void cut_next_transfer(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    cut_.insert(file);
  }
  // Every transfer of `file` has one byte flipped.
  void corrupt(const std::string& file) {
    std::lock_guard<std::mutex> lock(mutex_);
    corrupt_.insert(file);
  }
  // "GET <path> [Range]" per request, in order.
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    return requests_;
  }
  void clear_requests() {
    std::lock_guard<std::mutex> lock(mutex_);
    requests_.clear();
  }

  static std::string sha256(const std::string& data) { return digest(EVP_sha256(), "", data); }
  static std::string git_oid(const std::string& data) {
    std::string header = "blob " + std::to_string(data.size());
    header.push_back('\0');
    return digest(EVP_sha1(), header, data);
  }

 private:
  static bool is_lfs(const std::string& name) { return name.find(".safetensors") != std::string::npos &&
                                                      name.find(".json") == std::string::npos; }
  static std::string digest(const EVP_MD* md, const std::string& prefix, const std::string& data) {
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, md, nullptr);
    EVP_DigestUpdate(ctx, prefix.data(), prefix.size());
    EVP_DigestUpdate(ctx, data.data(), data.size());
    EVP_DigestFinal_ex(ctx, out, &len);
    EVP_MD_CTX_free(ctx);
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (unsigned i = 0; i < len; ++i) s += {hex[out[i] >> 4], hex[out[i] & 15]};
    return s;
  }

  void log(const httplib::Request& req) {
    std::lock_guard<std::mutex> lock(mutex_);
    std::string line = req.method + " " + req.path;
    if (req.has_header("Range")) line += " " + req.get_header_value("Range");
    requests_.push_back(line);
  }

  // The repo, or nullptr with the Hub's answer for a missing or gated one
  // (the Hub says 401 RepoNotFound to anonymous callers, hiding private repos).
  const Repo* authorised(const httplib::Request& req, httplib::Response& res, const std::string& id) {
    std::lock_guard<std::mutex> lock(mutex_);
    const bool has_token = !token_.empty() && req.get_header_value("Authorization") == "Bearer " + token_;
    const auto it = repos_.find(id);
    if (it == repos_.end()) {
      res.status = req.has_header("Authorization") ? 404 : 401;
      res.set_header("X-Error-Code", "RepoNotFound");
      res.set_header("X-Error-Message", "Repository not found");
      return nullptr;
    }
    if (it->second.gated && !has_token) {
      res.status = 401;
      res.set_header("X-Error-Code", "GatedRepo");
      res.set_header("X-Error-Message", "Access to model " + id + " is restricted.");
      return nullptr;
    }
    return &it->second;
  }

  void serve(const std::string& name, const std::string& content, httplib::Response& res) {
    std::lock_guard<std::mutex> lock(mutex_);
    serve_locked(name, content, res);
  }
  void serve_locked(const std::string& name, const std::string& content, httplib::Response& res) {
    std::string body = content;
    if (corrupt_.count(name) && !body.empty()) body[body.size() / 2] ^= 0x5a;
    if (cut_.erase(name)) {
      // Promise the whole length, send half, then drop the connection.
      auto data = std::make_shared<std::string>(body);
      res.set_content_provider(data->size(), "application/octet-stream",
                               [data](size_t offset, size_t length, httplib::DataSink& sink) {
                                 const size_t half = data->size() / 2;
                                 if (offset >= half) return false;
                                 sink.write(data->data() + offset, std::min(length, half - offset));
                                 return true;
                               });
      return;
    }
    res.set_content(body, "application/octet-stream");
  }

  httplib::Server server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mutex_;
  std::map<std::string, Repo> repos_;
  std::string token_;
  std::set<std::string> cut_, corrupt_;
  std::vector<std::string> requests_;
};
