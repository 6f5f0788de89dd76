// berth-registry: a registry server speaking the OCI Distribution spec (Docker Registry HTTP
// API v2) over the filesystem, configured with registry:2's own YAML.
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

namespace berth::registry {

struct ServerConfig {
  std::string root = "/var/lib/registry";                    // storage.filesystem.rootdirectory
  bool delete_enabled = false;                               // storage.delete.enabled
  std::string addr = ":5000";                                // http.addr
  std::string tls_certificate;                               // http.tls.certificate
  std::string tls_key;                                       // http.tls.key
  std::vector<std::pair<std::string, std::string>> headers;  // http.headers
  std::string htpasswd_realm;                                // auth.htpasswd.realm
  std::string htpasswd_path;                                 // auth.htpasswd.path; empty: no auth
  // auth.token; token_realm empty: no token auth.
  std::string token_realm, token_service, token_issuer, token_rootcertbundle;
  // proxy.remoteurl, username, password; remoteurl empty: not a pull-through cache.
  std::string proxy_remoteurl, proxy_username, proxy_password;
  std::string debug_addr;  // http.debug.addr
  // http.debug.prometheus.path when http.debug.prometheus.enabled; empty: no metrics.
  std::string metrics_path;
  std::string log_level = "info";  // log.level
  bool access_log = true;          // !log.accesslog.disabled
};

// Reads registry:2's configuration file (empty path: the defaults), then the environment's
// REGISTRY_* overrides. Keys it does not apply are warned about on `warnings`; keys whose
// absence would change what the registry does (other storage drivers, client certificates)
// are refused with an error.
ServerConfig load_config(const std::string& path, std::ostream& warnings);

class RegistryServer {
 public:
  explicit RegistryServer(const ServerConfig& config);
  ~RegistryServer();
  uint16_t port() const;
  // The metrics listener's port; 0 without one.
  uint16_t debug_port() const;
  // Serves until stop().
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

struct GcOptions {
  bool dry_run = false;
  bool delete_untagged = false;
};

// Removes the blobs no manifest of any repository references (and, with delete_untagged,
// the manifests no tag reaches first); prints what it marks and removes on `out`. Run it
// while the registry is stopped or read-only, as registry:2's.
void garbage_collect(const ServerConfig& config, const GcOptions& options, std::ostream& out);

}  // namespace berth::registry
