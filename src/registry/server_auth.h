// Basic auth against an htpasswd file of bcrypt entries, as `htpasswd -B` writes them and
// registry:2 reads them.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace berth::registry {

class Htpasswd {
 public:
  // Reads the file; throws when it cannot, or when it holds no bcrypt entry.
  Htpasswd(std::string realm, const std::string& path);
  const std::string& realm() const { return realm_; }
  // The user named by a valid "Basic <base64 user:password>" header; nullopt otherwise.
  std::optional<std::string> authenticate(const std::string& authorization);

 private:
  bool check(const std::string& user, const std::string& password);

  std::string realm_;
  std::map<std::string, std::string> hashes_;
  // bcrypt costs milliseconds by design; a client sends the same credential with every
  // request, so a pair that passed once is remembered by its sha256.
  std::mutex mu_;
  std::map<std::string, std::string> verified_;
};

}  // namespace berth::registry
