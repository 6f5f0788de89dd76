// The Distribution API's routes: /v2/ paths decoded into a repository name and an action,
// answered from the storage and the upload sessions, errors as the spec's error bodies.
#pragma once

#include <memory>

#include "registry/server_auth.h"
#include "registry/server_http.h"
#include "registry/server_proxy.h"
#include "registry/server_storage.h"
#include "registry/server_upload.h"

namespace berth::registry {

class Routes {
 public:
  // `auth` null: every request is served anonymously. `proxy` set: a pull-through cache,
  // which refuses writes as registry:2's does.
  Routes(Storage& storage, Uploads& uploads, Authenticator* auth, Proxy* proxy, bool delete_enabled)
      : storage_(storage),
        uploads_(uploads),
        auth_(auth),
        proxy_(proxy),
        delete_enabled_(delete_enabled) {}

  HttpResponse handle(HttpRequest& req);

 private:
  HttpResponse dispatch(HttpRequest& req);
  HttpResponse catalog(HttpRequest& req);
  HttpResponse tags(HttpRequest& req, const std::string& repo);
  HttpResponse blob(HttpRequest& req, const std::string& repo, const std::string& digest);
  HttpResponse start_upload(HttpRequest& req, const std::string& repo);
  HttpResponse upload(HttpRequest& req, const std::string& repo, const std::string& id);
  HttpResponse manifest(HttpRequest& req, const std::string& repo, const std::string& ref);
  HttpResponse put_manifest(HttpRequest& req, const std::string& repo, const std::string& ref);
  HttpResponse referrers(HttpRequest& req, const std::string& repo, const std::string& digest);

  Storage& storage_;
  Uploads& uploads_;
  Authenticator* auth_;
  Proxy* proxy_;
  bool delete_enabled_;
};

}  // namespace berth::registry
