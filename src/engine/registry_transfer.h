// What pull, push and login take and report: typed requests and the progress messages that
// the API turns into Docker's JSON message stream.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "registry/client.h"

namespace berth::engine {

using registry::Credentials;

struct PullRequest {
  std::string image;     // fromImage: "localhost:5000/app", possibly with a tag or digest
  std::string tag;       // a tag or a digest; empty with no tag in `image`: every tag
  std::string platform;  // "os/arch[/variant]", empty for this machine's
  Credentials auth;
};

struct PushRequest {
  std::string image;  // "localhost:5000/app", possibly with a tag
  std::string tag;    // empty with no tag in `image`: every tag of the repository
  Credentials auth;
};

// What a push leaves in the registry, for the stream's last "aux" message.
struct PushedManifest {
  std::string tag, digest;
  int64_t size = 0;
};

// One message of a transfer's progress, as Docker's JSON messages have them.
struct TransferProgress {
  std::string id;       // a layer's short id, a tag, or "" for a message of the whole transfer
  std::string status;   // "Pulling fs layer", "Downloading", "Pushed", "Digest: sha256:..."
  bool detail = false;  // Docker sends an (often empty) progressDetail
  int64_t current = 0, total = 0;  // bytes, when a bar is shown; total 0 when unknown
  std::optional<PushedManifest> pushed;
};
using TransferFn = std::function<void(const TransferProgress&)>;

}  // namespace berth::engine
