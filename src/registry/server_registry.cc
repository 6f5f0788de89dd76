#include <thread>

#include "base/fs.h"
#include "registry/server.h"
#include "registry/server_auth.h"
#include "registry/server_http.h"
#include "registry/server_metrics.h"
#include "registry/server_routes.h"
#include "registry/server_storage.h"
#include "registry/server_token.h"
#include "registry/server_upload.h"

namespace berth::registry {

struct RegistryServer::Impl {
  Storage storage;
  Uploads uploads;
  std::unique_ptr<Authenticator> auth;
  std::unique_ptr<Proxy> proxy;
  std::unique_ptr<Routes> routes;
  std::unique_ptr<HttpServer> http;
  Metrics metrics;
  // On http.debug.addr, apart from the API so that it needs no credentials.
  std::unique_ptr<HttpServer> debug;
  std::thread debug_thread;

  explicit Impl(const ServerConfig& c)
      : storage(c.root), uploads(storage, path_join(c.root, "uploads")) {
    if (!c.htpasswd_path.empty())
      auth = std::make_unique<Htpasswd>(c.htpasswd_realm, c.htpasswd_path);
    if (!c.token_realm.empty())
      auth = std::make_unique<TokenAuth>(
          TokenConfig{c.token_realm, c.token_service, c.token_issuer, c.token_rootcertbundle});
    if (!c.proxy_remoteurl.empty())
      proxy = std::make_unique<Proxy>(
          ProxyConfig{c.proxy_remoteurl, c.proxy_username, c.proxy_password}, storage);
    routes = std::make_unique<Routes>(storage, uploads, auth.get(), proxy.get(), c.delete_enabled);
    http = std::make_unique<HttpServer>(
        c.addr, [this](HttpRequest& req) { return routes->handle(req); },
        TlsFiles{c.tls_certificate, c.tls_key}, c.headers, c.access_log);
    if (c.metrics_path.empty()) return;
    http->observe([this](const std::string& method, int status, uint64_t bytes, double s) {
      metrics.record(method, status, bytes, s);
    });
    debug = std::make_unique<HttpServer>(
        c.debug_addr,
        [this, path = c.metrics_path](HttpRequest& req) {
          HttpResponse res;
          if (req.path != path || (req.method != "GET" && req.method != "HEAD")) {
            res.status = 404;
            return res;
          }
          res.set("Content-Type", "text/plain; version=0.0.4");
          res.body = metrics.render();
          return res;
        },
        TlsFiles{}, std::vector<std::pair<std::string, std::string>>{}, false);
  }
};

RegistryServer::RegistryServer(const ServerConfig& config)
    : impl_(std::make_unique<Impl>(config)) {}

RegistryServer::~RegistryServer() = default;

uint16_t RegistryServer::port() const {
  return impl_->http->port();
}

uint16_t RegistryServer::debug_port() const {
  return impl_->debug ? impl_->debug->port() : 0;
}

void RegistryServer::run() {
  if (impl_->debug) impl_->debug_thread = std::thread([this] { impl_->debug->run(); });
  impl_->http->run();
}

void RegistryServer::stop() {
  impl_->http->stop();
  if (impl_->debug) {
    impl_->debug->stop();
    if (impl_->debug_thread.joinable()) impl_->debug_thread.join();
  }
}

}  // namespace berth::registry
