// The distribution client: talks to any registry that follows the OCI Distribution spec
// (Docker Registry HTTP API v2) with libcurl — manifests and blobs in and out, Docker's
// token flow (Bearer realm/service/scope) and basic auth. It knows nothing of the engine's
// stores: callers hand it sinks and sources.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/error.h"
#include "image/manifest.h"
#include "registry/http_text.h"

namespace berth::registry {

// Credentials as Docker's X-Registry-Auth and /auth carry them.
struct Credentials {
  std::string username, password;
  std::string identity_token;  // an OAuth2 refresh token from an earlier login
  std::string registry_token;  // a bearer token used as is
  bool empty() const {
    return username.empty() && password.empty() && identity_token.empty() && registry_token.empty();
  }
};

// The registry refused the credentials (Docker answers 401 to /auth).
class Unauthorized : public Forbidden {
 public:
  using Forbidden::Forbidden;
};

// Which registries are spoken to over plain HTTP: the daemon's insecure-registries
// ("host:port", "host" or a CIDR such as "10.0.0.0/8") and, as in Docker, 127.0.0.0/8 and ::1.
struct Options {
  std::vector<std::string> insecure_registries;
};

struct Endpoint {
  std::string host;    // "localhost:5000", "registry-1.docker.io"
  bool secure = true;  // https, else plain http
  std::string base_url() const { return (secure ? "https://" : "http://") + host; }
};

// The endpoint of a reference's domain ("docker.io" -> registry-1.docker.io). An address as
// docker login takes it ("https://host:5000/v2/", "host:5000") is accepted too.
Endpoint endpoint_for(const std::string& domain, const Options& opts);
bool is_insecure(const std::string& host, const Options& opts);

// The manifest of an index that runs on `want` (os, architecture, variant): an exact variant
// first, then one without a variant; nullopt when none fits.
std::optional<image::Descriptor> select_platform(const image::Index& index,
                                                 const image::Platform& want);
// This machine's platform, as Docker names it (linux/amd64, linux/arm64/v8).
image::Platform host_platform();

struct FetchedManifest {
  std::string media_type;
  std::string digest;  // of the bytes as received
  std::string body;
};

// Bytes so far (for progress bars).
using ProgressFn = std::function<void(uint64_t done)>;
using SinkFn = std::function<void(std::string_view data)>;
using SourceFn = std::function<size_t(char* buf, size_t len)>;

// A session with one repository of one registry. Not thread-safe; fork() gives another
// session sharing the credentials and the token already obtained.
class Client {
 public:
  // `actions`: the scope asked of a token service, "pull" or "pull,push".
  Client(Endpoint endpoint, std::string repository, Credentials creds, std::string actions);
  ~Client();
  Client(Client&&) noexcept;
  Client fork() const;

  const Endpoint& endpoint() const;

  // /v2/ with the credentials: throws Unauthorized when the registry refuses them.
  void login();
  // By tag or digest; throws NotFound "manifest unknown" and Forbidden for denied access, in
  // the registry's words. A manifest fetched by digest is checked against it.
  FetchedManifest get_manifest(const std::string& reference);
  // Every tag of the repository (tags/list, following its pages).
  std::vector<std::string> list_tags();
  // Streams a blob into `sink`, checking its digest (and size when given).
  void fetch_blob(const std::string& digest, int64_t size, const SinkFn& sink,
                  const ProgressFn& progress);
  std::string fetch_small_blob(const std::string& digest, int64_t size);
  bool has_blob(const std::string& digest);
  // Uploads a blob whose digest is known, in one PUT.
  void put_blob(const std::string& digest, std::string_view data);
  // Streams a blob of unknown digest (POST, PATCH chunked, PUT ?digest=); `digest_of` is
  // asked for the digest once `src` has ended.
  void upload_blob(const SourceFn& src, const std::function<std::string()>& digest_of,
                   const ProgressFn& progress);
  // Returns the manifest's digest.
  std::string put_manifest(const std::string& reference, const std::string& media_type,
                           const std::string& body);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

}  // namespace berth::registry
