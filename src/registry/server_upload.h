// Blob upload sessions, kept on disk so that a chunked upload outlives a restart of the
// registry:
//
//   <root>/uploads/<id>/data    the bytes received so far
//   <root>/uploads/<id>/state   {"repository": ..., "offset": N}, renamed into place after
//                               every chunk
//
// The digest is hashed as the bytes arrive; a session found on disk but not in memory (the
// registry restarted) is cut back to its recorded offset, which drops a chunk a kill
// interrupted, and hashed again from its file. The final PUT compares digests and renames
// the data into the content store. A monolithic upload (POST ?digest=) has no session the
// client could resume: it streams into the content store's temporary files, which a restart
// clears.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "base/fd.h"
#include "image/digest.h"
#include "registry/server_http.h"
#include "registry/server_storage.h"

namespace berth::registry {

class Uploads {
 public:
  // Removes the sessions on disk nobody touched for a day.
  Uploads(Storage& storage, std::string dir);

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
  // A whole blob in one request, without a session.
  void put_monolithic(const std::string& repo, const std::string& digest, const BodyReader& body);

 private:
  struct Session {
    std::mutex mu;
    std::string id, repo, dir;
    UniqueFd fd;  // the data file, positioned at its end
    std::unique_ptr<image::Sha256> hash;
    uint64_t offset = 0;
    bool ended = false;
    std::chrono::steady_clock::time_point used;
  };
  std::shared_ptr<Session> find(const std::string& repo, const std::string& id);
  std::shared_ptr<Session> load(const std::string& id);
  void save(Session& s);
  void pour(Session& s, const BodyReader& body);
  void end(Session& s);

  Storage& storage_;
  std::string dir_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
};

}  // namespace berth::registry
