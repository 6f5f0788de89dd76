// Blob upload sessions: the bytes go straight into a content-store writer that hashes them
// as they arrive, so the final PUT only compares digests and renames. A session lives in
// memory: an upload interrupted by a restart starts again, as the spec lets clients do,
// and its temporary file is cleared at start-up.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "registry/server_http.h"
#include "registry/server_storage.h"

namespace berth::registry {

class Uploads {
 public:
  explicit Uploads(Storage& storage) : storage_(storage) {}

  // A new session of `repo`; returns its id.
  std::string start(const std::string& repo);
  // Appends the body; `at` (a Content-Range start) must be where the upload is now.
  // Returns the bytes received so far.
  uint64_t append(const std::string& repo, const std::string& id, std::optional<uint64_t> at,
                  const BodyReader& body);
  uint64_t received(const std::string& repo, const std::string& id);
  // Appends the body, checks the whole blob against `digest`, publishes it and links it
  // into the repository. The session ends whether it matches or not.
  void finish(const std::string& repo, const std::string& id, const std::string& digest,
              const BodyReader& body);
  void cancel(const std::string& repo, const std::string& id);

 private:
  struct Session {
    std::mutex mu;
    std::string repo;
    std::unique_ptr<image::BlobWriter> writer;
    std::chrono::steady_clock::time_point used;
  };
  std::shared_ptr<Session> find(const std::string& repo, const std::string& id);
  static void pour(Session& s, const BodyReader& body);

  Storage& storage_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
};

}  // namespace berth::registry
