#include "registry/server_token.h"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <strings.h>

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/digest.h"
#include "registry/http_text.h"

namespace berth::registry {

namespace {

using json = nlohmann::json;

// registry:2 tolerates this much clock skew between the token service and itself.
constexpr long kLeewaySeconds = 60;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

std::string spki_der(EVP_PKEY* key) {
  unsigned char* der = nullptr;
  int n = i2d_PUBKEY(key, &der);
  if (n <= 0) throw Error("token auth: cannot encode a public key");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  OPENSSL_free(der);
  return out;
}

// Why a token was refused, for the log; the client sees invalid_token either way.
struct Refused {
  std::string why;
};

std::string challenge_scope(const std::vector<Access>& needed) {
  // One "type:name:actions" per resource, actions sorted, as registry:2 writes it.
  std::vector<std::pair<std::string, std::set<std::string>>> resources;
  for (auto& a : needed) {
    std::string resource = a.type + ":" + a.name;
    auto it = std::find_if(resources.begin(), resources.end(),
                           [&](auto& r) { return r.first == resource; });
    if (it == resources.end()) {
      resources.push_back({resource, {}});
      it = resources.end() - 1;
    }
    it->second.insert(a.action);
  }
  std::string out;
  for (auto& [resource, actions] : resources) {
    if (!out.empty()) out += ' ';
    out += resource + ':';
    bool first = true;
    for (auto& action : actions) {
      out += (first ? "" : ",") + action;
      first = false;
    }
  }
  return out;
}

// A JWS signature of `alg` over `signed_part`, by `key`.
bool verify_signature(EVP_PKEY* key, const std::string& alg, const std::string& signed_part,
                      const std::string& signature) {
  const EVP_MD* md = nullptr;
  if (alg == "RS256" || alg == "ES256") md = EVP_sha256();
  if (alg == "RS384" || alg == "ES384") md = EVP_sha384();
  if (alg == "RS512" || alg == "ES512") md = EVP_sha512();
  if (!md) throw Refused{"unsupported signing algorithm " + alg};
  int type = EVP_PKEY_get_base_id(key);
  std::string sig = signature;
  if (alg[0] == 'R') {
    if (type != EVP_PKEY_RSA) throw Refused{alg + " with a key that is not RSA"};
  } else {
    if (type != EVP_PKEY_EC) throw Refused{alg + " with a key that is not EC"};
    // JWS carries r and s side by side; OpenSSL verifies the DER of the pair.
    size_t half = (static_cast<size_t>(EVP_PKEY_get_bits(key)) + 7) / 8;
    if (signature.size() != 2 * half) throw Refused{"ECDSA signature of the wrong length"};
    ECDSA_SIG* pair = ECDSA_SIG_new();
    BIGNUM* r = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()),
                          static_cast<int>(half), nullptr);
    BIGNUM* s = BN_bin2bn(reinterpret_cast<const unsigned char*>(signature.data()) + half,
                          static_cast<int>(half), nullptr);
    if (!pair || !r || !s || ECDSA_SIG_set0(pair, r, s) != 1) {
      BN_free(r);
      BN_free(s);
      ECDSA_SIG_free(pair);
      throw Error("token auth: out of memory");
    }
    unsigned char* der = nullptr;
    int n = i2d_ECDSA_SIG(pair, &der);
    ECDSA_SIG_free(pair);
    if (n <= 0) throw Error("token auth: cannot encode an ECDSA signature");
    sig.assign(reinterpret_cast<char*>(der), static_cast<size_t>(n));
    OPENSSL_free(der);
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (!ctx) throw Error("token auth: out of memory");
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, md, nullptr, key) == 1 &&
            EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                             reinterpret_cast<const unsigned char*>(signed_part.data()),
                             signed_part.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

}  // namespace

std::string libtrust_key_id(const std::string& spki) {
  std::string digest = image::sha256_digest(spki).substr(7);
  unsigned char bytes[30];
  for (size_t i = 0; i < sizeof bytes; ++i)
    bytes[i] = static_cast<unsigned char>(std::stoi(digest.substr(2 * i, 2), nullptr, 16));
  static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  std::string b32;
  // 240 bits: 48 characters of 5 bits, no padding.
  for (size_t bit = 0; bit < 240; bit += 5) {
    unsigned v = 0;
    for (size_t k = 0; k < 5; ++k)
      v = (v << 1) | ((bytes[(bit + k) / 8] >> (7 - (bit + k) % 8)) & 1);
    b32 += kAlphabet[v];
  }
  std::string out;
  for (size_t i = 0; i < b32.size(); i += 4) out += (i ? ":" : "") + b32.substr(i, 4);
  return out;
}

struct TokenAuth::Impl {
  TokenConfig config;
  X509_STORE* roots = nullptr;
  std::map<std::string, PkeyPtr> keys;  // by libtrust key ID

  ~Impl() { X509_STORE_free(roots); }

  // The key that signed the token: the leaf of its x5c chain, which must chain up to the
  // bundle, or the bundle's key its kid names.
  EVP_PKEY* signing_key(const json& header, PkeyPtr& owned) {
    if (header.contains("x5c")) {
      if (!header["x5c"].is_array() || header["x5c"].empty())
        throw Refused{"x5c is not a list of certificates"};
      std::vector<X509Ptr> chain;
      for (auto& c : header["x5c"]) {
        auto der = c.is_string() ? base64_decode(c.get<std::string>(), false) : std::nullopt;
        const unsigned char* p =
            der ? reinterpret_cast<const unsigned char*>(der->data()) : nullptr;
        X509* cert = p ? d2i_X509(nullptr, &p, static_cast<long>(der->size())) : nullptr;
        if (!cert) throw Refused{"a certificate of x5c cannot be parsed"};
        chain.emplace_back(cert);
      }
      STACK_OF(X509)* untrusted = sk_X509_new_null();
      for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(untrusted, chain[i].get());
      X509_STORE_CTX* ctx = X509_STORE_CTX_new();
      bool ok = ctx && X509_STORE_CTX_init(ctx, roots, chain[0].get(), untrusted) == 1 &&
                X509_verify_cert(ctx) == 1;
      std::string why = ctx ? X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)) : "";
      X509_STORE_CTX_free(ctx);
      sk_X509_free(untrusted);
      if (!ok) throw Refused{"x5c does not chain to rootcertbundle: " + why};
      owned.reset(X509_get_pubkey(chain[0].get()));
      if (!owned) throw Refused{"x5c's leaf has no usable public key"};
      return owned.get();
    }
    if (header.contains("kid") && header["kid"].is_string()) {
      auto it = keys.find(header["kid"].get<std::string>());
      if (it == keys.end())
        throw Refused{"kid " + header["kid"].dump() + " is no key of rootcertbundle"};
      return it->second.get();
    }
    throw Refused{"the token names its key by neither x5c nor kid"};
  }

  // The token's subject, when it is valid and grants every access needed.
  std::string verify(const std::string& token, const std::vector<Access>& needed) {
    auto dot1 = token.find('.');
    auto dot2 = dot1 == std::string::npos ? dot1 : token.find('.', dot1 + 1);
    if (dot2 == std::string::npos || token.find('.', dot2 + 1) != std::string::npos)
      throw Refused{"not a JWT of three parts"};
    auto header_text = base64_decode(token.substr(0, dot1), true);
    auto claims_text = base64_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), true);
    auto signature = base64_decode(token.substr(dot2 + 1), true);
    if (!header_text || !claims_text || !signature) throw Refused{"malformed base64url"};
    json header = json::parse(*header_text, nullptr, false);
    json claims = json::parse(*claims_text, nullptr, false);
    if (!header.is_object() || !claims.is_object()) throw Refused{"malformed JSON"};

    if (claims.value("iss", json()) != json(config.issuer))
      throw Refused{"token from untrusted issuer " + claims.value("iss", json()).dump()};
    json aud = claims.value("aud", json());
    bool for_us =
        aud == json(config.service) ||
        (aud.is_array() && std::find(aud.begin(), aud.end(), json(config.service)) != aud.end());
    if (!for_us) throw Refused{"token intended for another audience " + aud.dump()};
    long now = static_cast<long>(std::time(nullptr));
    json exp = claims.value("exp", json()), nbf = claims.value("nbf", json(0));
    if (!exp.is_number() || !nbf.is_number()) throw Refused{"exp and nbf must be numbers"};
    if (now > exp.get<long>() + kLeewaySeconds) throw Refused{"token has expired"};
    if (now < nbf.get<long>() - kLeewaySeconds) throw Refused{"token used before its nbf"};
    if (signature->empty()) throw Refused{"token has no signature"};

    PkeyPtr owned;
    EVP_PKEY* key = signing_key(header, owned);
    std::string alg = header.value("alg", "");
    if (!verify_signature(key, alg, token.substr(0, dot2), *signature))
      throw Refused{"invalid " + alg + " signature"};

    json access = claims.value("access", json::array());
    for (auto& want : needed) {
      bool granted = false;
      for (auto& a : access.is_array() ? access : json::array()) {
        if (!a.is_object() || a.value("type", json()) != json(want.type) ||
            a.value("name", json()) != json(want.name))
          continue;
        json actions = a.value("actions", json::array());
        if (actions.is_array() &&
            std::find(actions.begin(), actions.end(), json(want.action)) != actions.end())
          granted = true;
      }
      if (!granted) throw Refused{"insufficient_scope"};
    }
    json sub = claims.value("sub", json(""));
    return sub.is_string() ? sub.get<std::string>() : sub.dump();
  }
};

TokenAuth::TokenAuth(const TokenConfig& config) : impl_(std::make_unique<Impl>()) {
  impl_->config = config;
  impl_->roots = X509_STORE_new();
  if (!impl_->roots) throw Error("token auth: out of memory");
  std::string pem;
  try {
    pem = read_file(config.rootcertbundle);
  } catch (const std::exception& e) {
    rethrow_with_context(e, "auth.token.rootcertbundle");
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  while (X509* cert = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    X509Ptr owned(cert);
    X509_STORE_add_cert(impl_->roots, cert);
    PkeyPtr key(X509_get_pubkey(cert));
    if (key) impl_->keys[libtrust_key_id(spki_der(key.get()))] = std::move(key);
  }
  BIO_free(bio);
  if (impl_->keys.empty())
    throw InvalidArgument("auth.token.rootcertbundle " + config.rootcertbundle +
                          ": no certificate");
}

TokenAuth::~TokenAuth() = default;

AuthResult TokenAuth::authorize(const std::string& authorization,
                                const std::vector<Access>& needed) {
  const auto& c = impl_->config;
  std::string challenge = "Bearer realm=\"" + c.realm + "\",service=\"" + c.service + "\"";
  std::string scope = challenge_scope(needed);
  if (!scope.empty()) challenge += ",scope=\"" + scope + "\"";
  auto space = authorization.find(' ');
  if (space == std::string::npos || strncasecmp(authorization.c_str(), "bearer ", 7) != 0 ||
      authorization.find(' ', space + 1) != std::string::npos)
    return {std::nullopt, challenge};
  try {
    return {impl_->verify(authorization.substr(space + 1), needed), ""};
  } catch (const Refused& r) {
    log::info("bearer token refused: " + r.why);
    bool scope_error = r.why == "insufficient_scope";
    return {std::nullopt, challenge + ",error=\"" +
                              (scope_error ? "insufficient_scope" : "invalid_token") + "\""};
  }
}

}  // namespace berth::registry
