#include "qwen3vl/hub/file_digest.h"

#include <openssl/evp.h>
#include <sys/stat.h>

#include <cstdio>
#include <memory>
#include <vector>

#include "qwen3vl/base/error.h"

namespace qwen3vl::hub {

namespace {

std::string digest_file(const std::string& path, const EVP_MD* md, const std::string& prefix) {
  std::unique_ptr<FILE, decltype(&std::fclose)> f(std::fopen(path.c_str(), "rb"), std::fclose);
  if (!f) throw Error("cannot read " + path);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || !EVP_DigestInit_ex(ctx.get(), md, nullptr)) throw Error("cannot start a digest");
  EVP_DigestUpdate(ctx.get(), prefix.data(), prefix.size());
  std::vector<unsigned char> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f.get())) > 0) EVP_DigestUpdate(ctx.get(), buf.data(), n);
  if (std::ferror(f.get())) throw Error("error reading " + path);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  EVP_DigestFinal_ex(ctx.get(), out, &len);
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned i = 0; i < len; ++i) s += {hex[out[i] >> 4], hex[out[i] & 15]};
  return s;
}

}  // namespace

std::string file_sha256(const std::string& path) { return digest_file(path, EVP_sha256(), ""); }

std::string file_git_blob_id(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) throw Error("cannot read " + path);
  std::string header = "blob " + std::to_string(st.st_size);
  header.push_back('\0');
  return digest_file(path, EVP_sha1(), header);
}

}  // namespace qwen3vl::hub
