#include "registry/server.h"
#include "registry/server_auth.h"
#include "registry/server_http.h"
#include "registry/server_routes.h"
#include "registry/server_storage.h"
#include "registry/server_upload.h"

namespace berth::registry {

struct RegistryServer::Impl {
  Storage storage;
  Uploads uploads{storage};
  std::unique_ptr<Htpasswd> auth;
  std::unique_ptr<Routes> routes;
  std::unique_ptr<HttpServer> http;

  explicit Impl(const ServerConfig& c) : storage(c.root) {
    if (!c.htpasswd_path.empty())
      auth = std::make_unique<Htpasswd>(c.htpasswd_realm, c.htpasswd_path);
    routes = std::make_unique<Routes>(storage, uploads, auth.get(), c.delete_enabled);
    http = std::make_unique<HttpServer>(
        c.addr, [this](HttpRequest& req) { return routes->handle(req); },
        TlsFiles{c.tls_certificate, c.tls_key}, c.headers, c.access_log);
  }
};

RegistryServer::RegistryServer(const ServerConfig& config)
    : impl_(std::make_unique<Impl>(config)) {}

RegistryServer::~RegistryServer() = default;

uint16_t RegistryServer::port() const {
  return impl_->http->port();
}

void RegistryServer::run() {
  impl_->http->run();
}

void RegistryServer::stop() {
  impl_->http->stop();
}

}  // namespace berth::registry
