// Docker's token flow on the registry's side, as registry:2's auth.token has it: a request
// without a valid bearer token is answered 401 with a challenge naming the token service
// (realm), this registry (service) and the scope the request needs; a token is a JWT that a
// key certified by rootcertbundle signed (its header's x5c chain, or its kid: the libtrust
// key ID of one of the bundle's keys), from `issuer`, for `service` as audience, within its
// nbf/exp (a minute of leeway either way), whose access claim grants every action needed.
#pragma once

#include <memory>
#include <string>

#include "registry/server_auth.h"

namespace berth::registry {

struct TokenConfig {
  std::string realm, service, issuer, rootcertbundle;
};

class TokenAuth : public Authenticator {
 public:
  // Reads the bundle; throws when it cannot, or when it holds no certificate.
  explicit TokenAuth(const TokenConfig& config);
  ~TokenAuth() override;
  AuthResult authorize(const std::string& authorization,
                       const std::vector<Access>& needed) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// libtrust's key ID of a public key (DER SubjectPublicKeyInfo): the first 240 bits of its
// sha256 in base32, in 12 groups of 4 joined by ':'.
std::string libtrust_key_id(const std::string& spki_der);

}  // namespace berth::registry
