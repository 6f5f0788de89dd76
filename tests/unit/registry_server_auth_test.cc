// berth-registry's htpasswd auth, its registry:2 configuration and garbage-collect.
#include <crypt.h>
#include <fcntl.h>
#include <stdlib.h>

#include <chrono>
#include <sstream>
#include <thread>

#include "base/error.h"
#include "base/fs.h"
#include "registry_server_fixture.h"

namespace berth::registry::test {
namespace {

using RegistryServerAuth = RegistryServerTest;
using RegistryServerConfig = RegistryServerTest;
using RegistryServerGc = RegistryServerTest;

void write_new(const std::string& path, const std::string& text) {
  write_file(path, text, O_CREAT | O_TRUNC);
}

// An htpasswd line as `htpasswd -B` writes it.
std::string bcrypt_line(const std::string& user, const std::string& password) {
  void* data = nullptr;
  int size = 0;
  const char* salt = crypt_gensalt_ra("$2y$", 5, nullptr, 0);
  std::string s = salt;
  std::free(const_cast<char*>(salt));
  std::string hash = crypt_ra(password.c_str(), s.c_str(), &data, &size);
  std::free(data);
  return user + ":" + hash + "\n";
}

std::string basic(const std::string& user, const std::string& password) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string in = user + ":" + password, out;
  for (size_t i = 0; i < in.size(); i += 3) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    if (i + 1 < in.size()) v |= static_cast<uint8_t>(in[i + 1]) << 8;
    if (i + 2 < in.size()) v |= static_cast<uint8_t>(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < in.size() ? kAlphabet[v & 63] : '=';
  }
  return "Basic " + out;
}

TEST_F(RegistryServerAuth, HtpasswdBasicAuth) {
  write_new(dir_ / "htpasswd", "# users\n" + bcrypt_line("alice", "s3cret") + "bob:plain\n");
  config_.htpasswd_realm = "berth test";
  config_.htpasswd_path = dir_ / "htpasswd";
  start();
  Reply anonymous = call("GET", "/v2/");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.header("www-authenticate"), "Basic realm=\"berth test\"");
  EXPECT_EQ(anonymous.code(), "UNAUTHORIZED");
  auth_ = {{"Authorization", basic("alice", "wrong")}};
  EXPECT_EQ(call("GET", "/v2/").status, 401);
  // Nothing is written for a client that is refused.
  EXPECT_EQ(call("POST", "/v2/r/blobs/uploads/?digest=" + image::sha256_digest("x"), "x").status,
            401);
  EXPECT_FALSE(path_exists(config_.root + "/repositories/r"));
  auth_ = {{"Authorization", basic("bob", "plain")}};
  EXPECT_EQ(call("GET", "/v2/").status, 401);  // only bcrypt entries count
  auth_ = {{"Authorization", basic("alice", "s3cret")}};
  EXPECT_EQ(call("GET", "/v2/").status, 200);
  EXPECT_EQ(call("GET", "/v2/").status, 200);
  push_blob("r", "x");
}

TEST_F(RegistryServerConfig, ReadsRegistry2Configuration) {
  write_new(dir_ / "config.yml", R"(version: 0.1
log:
  level: debug
  accesslog:
    disabled: true
  fields:
    service: registry
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: /srv/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:5001
  headers:
    X-Content-Type-Options: [nosniff]
  tls:
    certificate: /certs/domain.crt
    key: /certs/domain.key
  debug:
    addr: 127.0.0.1:5002
    prometheus:
      enabled: true
      path: /metrics
auth:
  htpasswd:
    realm: Registry Realm
    path: /auth/htpasswd
frobnicate: yes
)");
  std::ostringstream warnings;
  ServerConfig c = load_config(dir_ / "config.yml", warnings);
  EXPECT_EQ(c.root, "/srv/registry");
  EXPECT_TRUE(c.delete_enabled);
  EXPECT_EQ(c.addr, "127.0.0.1:5001");
  EXPECT_EQ(c.tls_certificate, "/certs/domain.crt");
  EXPECT_EQ(c.tls_key, "/certs/domain.key");
  EXPECT_EQ(c.htpasswd_realm, "Registry Realm");
  EXPECT_EQ(c.htpasswd_path, "/auth/htpasswd");
  EXPECT_EQ(c.debug_addr, "127.0.0.1:5002");
  EXPECT_EQ(c.metrics_path, "/metrics");
  EXPECT_EQ(c.log_level, "debug");
  EXPECT_FALSE(c.access_log);
  ASSERT_EQ(c.headers.size(), 1u);
  EXPECT_EQ(c.headers[0].first, "X-Content-Type-Options");
  EXPECT_NE(warnings.str().find("frobnicate"), std::string::npos);
  EXPECT_NE(warnings.str().find("storage.cache"), std::string::npos);
  EXPECT_NE(warnings.str().find("log.fields"), std::string::npos);
}

TEST_F(RegistryServerConfig, DefaultsAndEnvironmentOverrides) {
  std::ostringstream warnings;
  ServerConfig d = load_config("", warnings);
  EXPECT_EQ(d.addr, ":5000");
  EXPECT_EQ(d.root, "/var/lib/registry");
  EXPECT_FALSE(d.delete_enabled);
  ::setenv("REGISTRY_HTTP_ADDR", "127.0.0.1:6000", 1);
  ::setenv("REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY", "/data", 1);
  ::setenv("REGISTRY_AUTH", "htpasswd", 1);
  ::setenv("REGISTRY_AUTH_HTPASSWD_REALM", "realm", 1);
  ::setenv("REGISTRY_AUTH_HTPASSWD_PATH", "/auth/htpasswd", 1);
  ServerConfig e = load_config("", warnings);
  for (auto name : {"REGISTRY_HTTP_ADDR", "REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY",
                    "REGISTRY_AUTH", "REGISTRY_AUTH_HTPASSWD_REALM", "REGISTRY_AUTH_HTPASSWD_PATH"})
    ::unsetenv(name);
  EXPECT_EQ(e.addr, "127.0.0.1:6000");
  EXPECT_EQ(e.root, "/data");
  EXPECT_EQ(e.htpasswd_path, "/auth/htpasswd");
}

TEST_F(RegistryServerConfig, RefusesWhatItDoesNotImplement) {
  std::ostringstream warnings;
  auto refused = [&](const std::string& yaml) {
    write_new(dir_ / "c.yml", yaml);
    EXPECT_THROW(load_config(dir_ / "c.yml", warnings), berth::Error) << yaml;
  };
  // auth.token needs all four keys, is alone, and takes its keys from the bundle only.
  refused("version: 0.1\nauth:\n  token:\n    realm: https://auth\n");
  std::string token =
      "version: 0.1\nauth:\n  token:\n    realm: https://auth/token\n    service: reg\n"
      "    issuer: iss\n    rootcertbundle: /b.pem\n";
  refused(token + "    jwks: /keys.json\n");
  refused(token + "  htpasswd:\n    realm: r\n    path: /x\n");
  write_new(dir_ / "t.yml", token + "    autoredirect: true\n");
  ServerConfig t = load_config(dir_ / "t.yml", warnings);
  EXPECT_EQ(t.token_realm, "https://auth/token");
  EXPECT_EQ(t.token_service, "reg");
  EXPECT_EQ(t.token_issuer, "iss");
  EXPECT_EQ(t.token_rootcertbundle, "/b.pem");
  EXPECT_NE(warnings.str().find("auth.token.autoredirect is ignored"), std::string::npos);
  refused("version: 0.1\nproxy:\n  remoteurl: ftp://registry-1.docker.io\n");
  write_new(dir_ / "p.yml",
            "version: 0.1\nproxy:\n  remoteurl: https://registry-1.docker.io\n  username: u\n"
            "  password: p\n  ttl: 168h\n");
  ServerConfig p = load_config(dir_ / "p.yml", warnings);
  EXPECT_EQ(p.proxy_remoteurl, "https://registry-1.docker.io");
  EXPECT_EQ(p.proxy_username, "u");
  EXPECT_EQ(p.proxy_password, "p");
  EXPECT_NE(warnings.str().find("proxy.ttl is ignored"), std::string::npos);
  refused("version: 0.1\nstorage:\n  s3:\n    bucket: b\n");
  refused("version: 0.2\n");
  refused("version: 0.1\nauth:\n  htpasswd:\n    path: /x\n");  // no realm
  refused("version: 0.1\nstorage: [\n");
}

TEST_F(RegistryServerConfig, TlsNeedsBothFiles) {
  config_.tls_certificate = dir_ / "missing.crt";
  EXPECT_THROW(RegistryServer{config_}, berth::Error);
}

TEST_F(RegistryServerConfig, PrometheusMetricsOnTheDebugAddress) {
  config_.debug_addr = "127.0.0.1:0";
  config_.metrics_path = "/metrics";
  start();
  call("GET", "/v2/");
  call("GET", "/v2/");
  call("GET", "/v2/nothing/tags/list");
  uint16_t api = port_;
  port_ = server_->debug_port();
  // A request is counted once its answer has gone out, which is after the client has it.
  auto counted = [](const Reply& r) {
    return r.body.find("code=\"404\"} 1\n") != std::string::npos;
  };
  Reply m = call("GET", "/metrics");
  for (int i = 0; i < 200 && !counted(m); i++) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    m = call("GET", "/metrics");
  }
  EXPECT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("registry_http_requests_total{method=\"GET\",code=\"200\"} 2\n"),
            std::string::npos)
      << m.body;
  EXPECT_NE(m.body.find("registry_http_requests_total{method=\"GET\",code=\"404\"} 1\n"),
            std::string::npos)
      << m.body;
  EXPECT_EQ(call("GET", "/v2/").status, 404);  // the debug listener serves metrics only
  port_ = api;
}

TEST_F(RegistryServerGc, RemovesWhatNoManifestReferences) {
  config_.delete_enabled = true;
  start();
  std::string kept = push_image("app", "v1", "kept layer");
  std::string dropped = push_image("app", "v2", "dropped layer");
  std::string orphan = push_blob("app", "orphan blob");
  ASSERT_EQ(call("DELETE", "/v2/app/manifests/v2").status, 202);  // untags v2 only
  stop();

  std::ostringstream dry;
  garbage_collect(config_, {.dry_run = true, .delete_untagged = false}, dry);
  EXPECT_NE(dry.str().find(orphan), std::string::npos);
  EXPECT_TRUE(path_exists(config_.root + "/blobs/sha256/" + orphan.substr(7)));

  std::ostringstream out;
  garbage_collect(config_, {.dry_run = false, .delete_untagged = false}, out);
  EXPECT_FALSE(path_exists(config_.root + "/blobs/sha256/" + orphan.substr(7)));
  EXPECT_TRUE(path_exists(config_.root + "/blobs/sha256/" + dropped.substr(7)));

  std::ostringstream untagged;
  garbage_collect(config_, {.dry_run = false, .delete_untagged = true}, untagged);
  EXPECT_FALSE(path_exists(config_.root + "/blobs/sha256/" + dropped.substr(7)));
  EXPECT_TRUE(path_exists(config_.root + "/blobs/sha256/" + kept.substr(7)));
  std::string dropped_layer = image::sha256_digest("dropped layer");
  EXPECT_FALSE(path_exists(config_.root + "/blobs/sha256/" + dropped_layer.substr(7)));

  start();
  EXPECT_EQ(call("GET", "/v2/app/manifests/v1").status, 200);
  EXPECT_EQ(call("HEAD", "/v2/app/blobs/" + image::sha256_digest("kept layer")).status, 200);
  EXPECT_EQ(call("HEAD", "/v2/app/blobs/" + dropped_layer).status, 404);
}

}  // namespace
}  // namespace berth::registry::test
