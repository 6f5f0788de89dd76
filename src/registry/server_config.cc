// registry:2's configuration file, key by key: applied, refused (a key whose absence would
// change what the registry does), or warned about and ignored (tuning that has no meaning
// here). REGISTRY_<SECTION>_<KEY> environment variables override the file, as registry:2's.
#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <cstring>

#include "base/error.h"
#include "registry/server.h"

extern char** environ;

namespace berth::registry {

namespace {

struct Reader {
  std::ostream& warnings;

  void ignored(const std::string& key, const std::string& why) {
    warnings << "berth-registry: warning: " << key << " is ignored: " << why << "\n";
  }
  [[noreturn]] void refused(const std::string& key, const std::string& why) {
    throw InvalidArgument("configuration " + key + " is not supported by berth-registry: " + why);
  }
  void unknown(const std::string& key) {
    warnings << "berth-registry: warning: unknown configuration key " << key << ", ignored\n";
  }

  static std::string str(const YAML::Node& n, const std::string& key) {
    if (!n.IsScalar()) throw InvalidArgument("configuration " + key + " must be a string");
    return n.as<std::string>();
  }
  static bool boolean(const YAML::Node& n, const std::string& key) {
    bool v = false;
    if (!n.IsScalar() || !YAML::convert<bool>::decode(n, v))
      throw InvalidArgument("configuration " + key + " must be true or false");
    return v;
  }

  void storage(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "storage." + k;
      if (k == "filesystem") {
        for (auto f : kv.second) {
          std::string fk = f.first.as<std::string>();
          if (fk == "rootdirectory")
            c.root = str(f.second, key + ".rootdirectory");
          else if (fk == "maxthreads")
            ignored(key + ".maxthreads", "each connection has its own thread");
          else
            unknown(key + "." + fk);
        }
      } else if (k == "delete") {
        if (kv.second["enabled"])
          c.delete_enabled = boolean(kv.second["enabled"], key + ".enabled");
      } else if (k == "cache" || k == "maintenance" || k == "redirect" || k == "tag") {
        ignored(key, "berth-registry keeps no cache and purges abandoned uploads itself");
      } else if (k == "inmemory" || k == "s3" || k == "azure" || k == "gcs" || k == "swift" ||
                 k == "oss") {
        refused(key, "only the filesystem driver is implemented");
      } else {
        unknown(key);
      }
    }
  }

  void http(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "http." + k;
      if (k == "addr") {
        c.addr = str(kv.second, key);
      } else if (k == "net") {
        if (str(kv.second, key) != "tcp") refused(key, "only tcp is implemented");
      } else if (k == "prefix") {
        std::string p = str(kv.second, key);
        if (!p.empty() && p != "/") refused(key, "the API is served at /v2/ only");
      } else if (k == "headers") {
        if (!kv.second.IsMap()) throw InvalidArgument("configuration http.headers must be a map");
        for (auto h : kv.second) {
          std::string name = h.first.as<std::string>();
          if (h.second.IsSequence()) {
            for (auto v : h.second) c.headers.emplace_back(name, v.as<std::string>());
          } else {
            c.headers.emplace_back(name, str(h.second, key + "." + name));
          }
        }
      } else if (k == "tls") {
        for (auto t : kv.second) {
          std::string tk = t.first.as<std::string>();
          if (tk == "certificate")
            c.tls_certificate = str(t.second, key + ".certificate");
          else if (tk == "key")
            c.tls_key = str(t.second, key + ".key");
          else if (tk == "clientcas" || tk == "letsencrypt")
            refused(key + "." + tk, "client certificates and ACME are not implemented");
          else if (tk == "minimumtls" || tk == "ciphersuites")
            ignored(key + "." + tk, "TLS 1.2 or newer with OpenSSL's default ciphers");
          else
            unknown(key + "." + tk);
        }
      } else if (k == "debug") {
        debug(kv.second, c);
      } else if (k == "secret" || k == "host" || k == "relativeurls" || k == "http2" ||
                 k == "draintimeout") {
        ignored(key, "a single berth-registry process answers with relative URLs");
      } else {
        unknown(key);
      }
    }
  }

  void debug(const YAML::Node& node, ServerConfig& c) {
    bool prometheus = false;
    std::string path = "/metrics";
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "http.debug." + k;
      if (k == "addr") {
        c.debug_addr = str(kv.second, key);
      } else if (k == "prometheus") {
        if (kv.second["enabled"]) prometheus = boolean(kv.second["enabled"], key + ".enabled");
        if (kv.second["path"]) path = str(kv.second["path"], key + ".path");
      } else {
        unknown(key);
      }
    }
    if (prometheus) c.metrics_path = path;
    if (!c.debug_addr.empty() && !prometheus)
      ignored("http.debug.addr", "it serves only Prometheus metrics (http.debug.prometheus)");
    if (prometheus && c.debug_addr.empty())
      throw InvalidArgument("configuration http.debug.prometheus needs http.debug.addr");
  }

  void auth(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "auth." + k;
      if (k == "htpasswd") {
        if (kv.second["realm"]) c.htpasswd_realm = str(kv.second["realm"], key + ".realm");
        if (kv.second["path"]) c.htpasswd_path = str(kv.second["path"], key + ".path");
      } else if (k == "token") {
        token(kv.second, c);
      } else if (k == "silly") {
        refused(key, "only htpasswd and token auth are implemented");
      } else {
        unknown(key);
      }
    }
  }

  void token(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "auth.token." + k;
      if (k == "realm")
        c.token_realm = str(kv.second, key);
      else if (k == "service")
        c.token_service = str(kv.second, key);
      else if (k == "issuer")
        c.token_issuer = str(kv.second, key);
      else if (k == "rootcertbundle")
        c.token_rootcertbundle = str(kv.second, key);
      else if (k == "autoredirect")
        ignored(key, "the challenge names auth.token.realm as configured");
      else if (k == "jwks" || k == "signingalgorithms")
        refused(key, "keys come from rootcertbundle, with RS256/384/512 and ES256/384/512");
      else
        unknown(key);
    }
  }

  void proxy(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "proxy." + k;
      if (k == "remoteurl") {
        c.proxy_remoteurl = str(kv.second, key);
        if (c.proxy_remoteurl.rfind("http://", 0) != 0 &&
            c.proxy_remoteurl.rfind("https://", 0) != 0)
          throw InvalidArgument("configuration proxy.remoteurl " + c.proxy_remoteurl +
                                ": not an http:// or https:// URL");
      } else if (k == "username")
        c.proxy_username = str(kv.second, key);
      else if (k == "password")
        c.proxy_password = str(kv.second, key);
      else if (k == "ttl")
        ignored(key, "cached content stays until garbage-collect removes it");
      else
        unknown(key);
    }
  }

  void log(const YAML::Node& node, ServerConfig& c) {
    for (auto kv : node) {
      std::string k = kv.first.as<std::string>(), key = "log." + k;
      if (k == "level") {
        c.log_level = str(kv.second, key);
      } else if (k == "accesslog") {
        if (kv.second["disabled"])
          c.access_log = !boolean(kv.second["disabled"], key + ".disabled");
      } else if (k == "formatter" || k == "fields" || k == "hooks") {
        ignored(key, "logs are plain text lines");
      } else {
        unknown(key);
      }
    }
  }

  void file(const YAML::Node& root, ServerConfig& c) {
    if (!root.IsMap()) throw InvalidArgument("configuration: not a YAML map");
    for (auto kv : root) {
      std::string k = kv.first.as<std::string>();
      if (k == "version") {
        if (str(kv.second, k) != "0.1")
          throw InvalidArgument("configuration version " + kv.second.as<std::string>() +
                                " is not registry:2's 0.1");
      } else if (k == "storage") {
        storage(kv.second, c);
      } else if (k == "http") {
        http(kv.second, c);
      } else if (k == "auth") {
        auth(kv.second, c);
      } else if (k == "log") {
        log(kv.second, c);
      } else if (k == "loglevel") {
        c.log_level = str(kv.second, k);
      } else if (k == "proxy") {
        proxy(kv.second, c);
      } else if (k == "health" || k == "notifications" || k == "redis" || k == "reporting" ||
                 k == "middleware" || k == "validation" || k == "compatibility") {
        ignored(k, "not implemented by berth-registry");
      } else {
        unknown(k);
      }
    }
  }

  void environment(ServerConfig& c) {
    for (char** e = environ; *e; ++e) {
      std::string entry = *e;
      if (entry.rfind("REGISTRY_", 0) != 0) continue;
      auto eq = entry.find('=');
      std::string name = entry.substr(0, eq), value = entry.substr(eq + 1);
      if (name == "REGISTRY_HTTP_ADDR") {
        c.addr = value;
      } else if (name == "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY") {
        c.root = value;
      } else if (name == "REGISTRY_STORAGE_DELETE_ENABLED") {
        c.delete_enabled = value == "true" || value == "1";
      } else if (name == "REGISTRY_HTTP_TLS_CERTIFICATE") {
        c.tls_certificate = value;
      } else if (name == "REGISTRY_HTTP_TLS_KEY") {
        c.tls_key = value;
      } else if (name == "REGISTRY_AUTH") {
        if (value != "htpasswd" && value != "token")
          refused(name, "only htpasswd and token auth are implemented");
      } else if (name == "REGISTRY_AUTH_TOKEN_REALM") {
        c.token_realm = value;
      } else if (name == "REGISTRY_AUTH_TOKEN_SERVICE") {
        c.token_service = value;
      } else if (name == "REGISTRY_AUTH_TOKEN_ISSUER") {
        c.token_issuer = value;
      } else if (name == "REGISTRY_AUTH_TOKEN_ROOTCERTBUNDLE") {
        c.token_rootcertbundle = value;
      } else if (name == "REGISTRY_AUTH_TOKEN_AUTOREDIRECT") {
        ignored(name, "the challenge names auth.token.realm as configured");
      } else if (name == "REGISTRY_AUTH_HTPASSWD_REALM") {
        c.htpasswd_realm = value;
      } else if (name == "REGISTRY_AUTH_HTPASSWD_PATH") {
        c.htpasswd_path = value;
      } else if (name == "REGISTRY_LOG_LEVEL") {
        c.log_level = value;
      } else if (name == "REGISTRY_PROXY_REMOTEURL") {
        c.proxy_remoteurl = value;
      } else if (name == "REGISTRY_PROXY_USERNAME") {
        c.proxy_username = value;
      } else if (name == "REGISTRY_PROXY_PASSWORD") {
        c.proxy_password = value;
      } else if (name == "REGISTRY_PROXY_TTL") {
        ignored(name, "cached content stays until garbage-collect removes it");
      } else {
        ignored(name, "no such override in berth-registry");
      }
    }
  }
};

}  // namespace

ServerConfig load_config(const std::string& path, std::ostream& warnings) {
  ServerConfig c;
  Reader r{warnings};
  if (!path.empty()) {
    try {
      r.file(YAML::LoadFile(path), c);
    } catch (const YAML::Exception& e) {
      throw InvalidArgument("configuration " + path + ": " + e.what());
    }
  }
  r.environment(c);
  if (!c.htpasswd_path.empty() && c.htpasswd_realm.empty())
    throw InvalidArgument("auth.htpasswd needs a realm");
  bool token = !c.token_realm.empty() || !c.token_service.empty() || !c.token_issuer.empty() ||
               !c.token_rootcertbundle.empty();
  if (token && (c.token_realm.empty() || c.token_service.empty() || c.token_issuer.empty() ||
                c.token_rootcertbundle.empty()))
    throw InvalidArgument("auth.token needs realm, service, issuer and rootcertbundle");
  // As registry:2: one access controller.
  if (token && !c.htpasswd_path.empty())
    throw InvalidArgument("auth must configure exactly one of htpasswd and token, not both");
  if (c.log_level != "debug" && c.log_level != "info" && c.log_level != "warn" &&
      c.log_level != "error")
    throw InvalidArgument("log.level " + c.log_level + ": not debug, info, warn or error");
  return c;
}

}  // namespace berth::registry
