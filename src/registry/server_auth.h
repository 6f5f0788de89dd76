// Who may do what: basic auth against an htpasswd file of bcrypt entries (as `htpasswd -B`
// writes them and registry:2 reads them), or Docker's token flow (server_token.h), behind
// one interface the routes ask with the access a request needs.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace berth::registry {

// One right a request needs, as registry:2 names them: ("repository", "team/app", "pull"),
// ("registry", "catalog", "*").
struct Access {
  std::string type, name, action;
};

struct AuthResult {
  std::optional<std::string> user;  // set when the request may go on
  std::string challenge;            // WWW-Authenticate of the 401 otherwise
};

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  virtual AuthResult authorize(const std::string& authorization,
                               const std::vector<Access>& needed) = 0;
};

class Htpasswd : public Authenticator {
 public:
  // Reads the file; throws when it cannot, or when it holds no bcrypt entry.
  Htpasswd(std::string realm, const std::string& path);
  // A user of the file may do anything.
  AuthResult authorize(const std::string& authorization,
                       const std::vector<Access>& needed) override;
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
