// The pull-through cache of registry:2's `proxy` section: manifests and blobs this registry
// does not have are fetched from the upstream (any Distribution API v2 registry, with basic
// or Docker's token auth), stored, and served from the store from then on. A tag is asked
// of the upstream at every request while it answers, and served from the store when it does
// not; blobs and manifests by digest never change, so once stored they are never asked for
// again.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "registry/server_storage.h"

namespace berth::registry {

struct ProxyConfig {
  std::string remoteurl, username, password;
};

class Proxy {
 public:
  Proxy(const ProxyConfig& config, Storage& storage);
  ~Proxy();

  // Makes the blob local (fetched, verified, linked into `repo`) when the upstream has it;
  // false when it is neither here nor there.
  bool blob(const std::string& repo, const std::string& digest);
  // A tag: the upstream's current manifest, stored and tagged here; a digest: fetched unless
  // stored. Failures of the upstream are logged and leave the store as it was, for the
  // caller to answer from.
  void manifest(const std::string& repo, const std::string& reference, const std::string& accept);
  // The upstream's tags of `repo`; nullopt when it cannot say.
  std::optional<std::vector<std::string>> tags(const std::string& repo);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::registry
