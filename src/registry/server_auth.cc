#include "registry/server_auth.h"

#include <crypt.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/digest.h"
#include "registry/http_text.h"

namespace berth::registry {

namespace {

bool is_bcrypt(const std::string& hash) {
  return hash.rfind("$2y$", 0) == 0 || hash.rfind("$2a$", 0) == 0 || hash.rfind("$2b$", 0) == 0;
}

}  // namespace

Htpasswd::Htpasswd(std::string realm, const std::string& path) : realm_(std::move(realm)) {
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    rethrow_with_context(e, "auth.htpasswd.path");
  }
  int line_no = 0;
  for (auto& raw : split(text, '\n')) {
    ++line_no;
    std::string line = trim(raw);
    if (line.empty() || line[0] == '#') continue;
    auto colon = line.find(':');
    std::string hash = colon == std::string::npos ? "" : line.substr(colon + 1);
    if (!is_bcrypt(hash)) {
      log::warn(path + ":" + std::to_string(line_no) +
                ": not a bcrypt entry (make it with htpasswd -B), ignored");
      continue;
    }
    hashes_[line.substr(0, colon)] = hash;
  }
  if (hashes_.empty()) throw InvalidArgument("auth.htpasswd.path " + path + ": no bcrypt entry");
}

AuthResult Htpasswd::authorize(const std::string& authorization, const std::vector<Access>&) {
  return {authenticate(authorization), "Basic realm=\"" + realm_ + "\""};
}

std::optional<std::string> Htpasswd::authenticate(const std::string& authorization) {
  constexpr std::string_view kBasic = "Basic ";
  if (authorization.size() <= kBasic.size() ||
      strncasecmp(authorization.c_str(), kBasic.data(), kBasic.size()) != 0)
    return std::nullopt;
  auto decoded = base64_decode(trim(authorization.substr(kBasic.size())));
  if (!decoded) return std::nullopt;
  auto colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string user = decoded->substr(0, colon);
  if (!check(user, decoded->substr(colon + 1))) return std::nullopt;
  return user;
}

bool Htpasswd::check(const std::string& user, const std::string& password) {
  auto it = hashes_.find(user);
  if (it == hashes_.end()) return false;
  std::string fingerprint = image::sha256_digest(user + '\0' + password);
  {
    std::lock_guard lock(mu_);
    auto v = verified_.find(user);
    if (v != verified_.end() && v->second == fingerprint) return true;
  }
  void* data = nullptr;
  int size = 0;
  const char* out = crypt_ra(password.c_str(), it->second.c_str(), &data, &size);
  bool ok = out && out[0] != '*' && std::strlen(out) == it->second.size() &&
            CRYPTO_memcmp(out, it->second.data(), it->second.size()) == 0;
  std::free(data);
  if (ok) {
    std::lock_guard lock(mu_);
    verified_[user] = fingerprint;
  }
  return ok;
}

}  // namespace berth::registry
