#include "registry/server_upload.h"

#include <openssl/rand.h>

#include <cstdio>

#include "registry/server_error.h"

namespace berth::registry {

namespace {

// A session nobody touched for this long is abandoned: its temporary file goes.
constexpr auto kAbandoned = std::chrono::hours(24);

std::string new_id() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw Error("upload: no random bytes for an id");
  b[6] = (b[6] & 0x0f) | 0x40;  // a version-4 UUID, as clients log and compare them
  b[8] = (b[8] & 0x3f) | 0x80;
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
                b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
                b[15]);
  return out;
}

}  // namespace

std::string Uploads::start(const std::string& repo) {
  auto s = std::make_shared<Session>();
  s->repo = repo;
  s->writer = storage_.blobs().writer();
  s->used = std::chrono::steady_clock::now();
  std::string id = new_id();
  std::lock_guard lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (s->used - it->second->used > kAbandoned)
      it = sessions_.erase(it);
    else
      ++it;
  }
  sessions_.emplace(id, std::move(s));
  return id;
}

std::shared_ptr<Uploads::Session> Uploads::find(const std::string& repo, const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repo != repo)
    throw RegistryError(ErrorCode::kBlobUploadUnknown, "blob upload unknown to registry",
                        nlohmann::json{{"uuid", id}});
  return it->second;
}

void Uploads::pour(Session& s, const BodyReader& body) {
  char buf[1 << 16];
  for (;;) {
    size_t n = body(buf, sizeof buf);
    if (n == 0) break;
    s.writer->write(std::string_view(buf, n));
  }
  s.used = std::chrono::steady_clock::now();
}

uint64_t Uploads::append(const std::string& repo, const std::string& id, std::optional<uint64_t> at,
                         const BodyReader& body) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (!s->writer) throw RegistryError(ErrorCode::kBlobUploadUnknown, "blob upload has ended");
  if (at && *at != s->writer->size())
    throw RegistryError(ErrorCode::kRangeInvalid, "chunk starts at " + std::to_string(*at) +
                                                      " but the upload has " +
                                                      std::to_string(s->writer->size()) + " bytes");
  try {
    pour(*s, body);
  } catch (const RegistryError&) {
    // The client went away mid-chunk: what arrived stays, and the client may ask where
    // the upload is and go on from there.
    throw;
  } catch (...) {
    // The disk failed and the writer dropped its file: the session cannot go on.
    s->writer.reset();
    cancel(repo, id);
    throw;
  }
  return s->writer->size();
}

uint64_t Uploads::received(const std::string& repo, const std::string& id) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  return s->writer ? s->writer->size() : 0;
}

void Uploads::finish(const std::string& repo, const std::string& id, const std::string& digest,
                     const BodyReader& body) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (!s->writer) throw RegistryError(ErrorCode::kBlobUploadUnknown, "blob upload has ended");
  {
    // Whatever happens now, the session is over; a concurrent request on it finds it gone.
    std::lock_guard map_lock(mu_);
    sessions_.erase(id);
  }
  // The writer leaves with the session: a cut body or a wrong digest leaves no file behind.
  try {
    pour(*s, body);
  } catch (...) {
    s->writer.reset();
    throw;
  }
  try {
    s->writer->commit(digest);
  } catch (const Error& e) {
    s->writer.reset();
    if (e.code() != 0) throw;  // the disk, not the digest
    throw RegistryError(ErrorCode::kDigestInvalid, "provided digest did not match uploaded content",
                        nlohmann::json{{"digest", digest}});
  }
  s->writer.reset();
  storage_.link_blob(repo, digest);
}

void Uploads::cancel(const std::string& repo, const std::string& id) {
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end() || it->second->repo != repo)
    throw RegistryError(ErrorCode::kBlobUploadUnknown, "blob upload unknown to registry",
                        nlohmann::json{{"uuid", id}});
  sessions_.erase(it);
}

}  // namespace berth::registry
