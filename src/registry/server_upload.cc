#include "registry/server_upload.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "base/log.h"
#include "registry/server_error.h"

namespace berth::registry {

namespace {

// A session nobody touched for this long is abandoned: its files go.
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

// The id comes from the URL and names a directory: only what new_id() makes is one.
bool valid_id(const std::string& id) {
  if (id.size() != 36) return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    char c = id[i];
    if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

[[noreturn]] void unknown(const std::string& id) {
  throw RegistryError(ErrorCode::kBlobUploadUnknown, "blob upload unknown to registry",
                      nlohmann::json{{"uuid", id}});
}

}  // namespace

Uploads::Uploads(Storage& storage, std::string dir) : storage_(storage), dir_(std::move(dir)) {
  mkdir_p(dir_, 0700);
  auto now = std::chrono::system_clock::now();
  for (auto& id : list_dir(dir_)) {
    struct stat st;
    std::string state = dir_ + "/" + id + "/state";
    bool stale = ::stat(state.c_str(), &st) < 0 ||
                 now - std::chrono::system_clock::from_time_t(st.st_mtime) > kAbandoned;
    if (stale) remove_all(dir_ + "/" + id);
  }
}

void Uploads::save(Session& s) {
  write_file_atomic(s.dir + "/state",
                    nlohmann::json{{"repository", s.repo}, {"offset", s.offset}}.dump(), 0600,
                    Durability::kCrashSafe);
  s.used = std::chrono::steady_clock::now();
}

std::string Uploads::start(const std::string& repo) {
  auto s = std::make_shared<Session>();
  s->id = new_id();
  s->repo = repo;
  s->dir = dir_ + "/" + s->id;
  mkdir_p(s->dir, 0700);
  s->fd = open_or_throw(s->dir + "/data", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  s->hash = std::make_unique<image::Sha256>();
  save(*s);
  std::lock_guard lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    std::unique_lock busy(it->second->mu, std::try_to_lock);
    if (busy && s->used - it->second->used > kAbandoned) {
      remove_all(it->second->dir);
      it->second->ended = true;
      busy.unlock();
      it = sessions_.erase(it);
    } else {
      ++it;
    }
  }
  sessions_.emplace(s->id, s);
  return s->id;
}

// A session this process has not seen: one a previous run of the registry started.
std::shared_ptr<Uploads::Session> Uploads::load(const std::string& id) {
  std::string dir = dir_ + "/" + id;
  auto text = read_file_if_exists(dir + "/state");
  if (!text) return nullptr;
  auto s = std::make_shared<Session>();
  s->id = id;
  s->dir = dir;
  try {
    auto j = nlohmann::json::parse(*text);
    s->repo = j.at("repository").get<std::string>();
    s->offset = j.at("offset").get<uint64_t>();
  } catch (const std::exception& e) {
    log::warn("upload " + id + ": unreadable state, dropped: " + e.what());
    remove_all(dir);
    return nullptr;
  }
  s->fd = open_or_throw(dir + "/data", O_RDWR | O_CLOEXEC);
  // Bytes past the offset came from a chunk that was never answered.
  if (::ftruncate(s->fd.get(), static_cast<off_t>(s->offset)) < 0)
    throw_errno("upload " + id + ": truncate to " + std::to_string(s->offset));
  s->hash = std::make_unique<image::Sha256>();
  char buf[1 << 16];
  uint64_t done = 0;
  while (done < s->offset) {
    ssize_t n = ::pread(s->fd.get(), buf, sizeof buf, static_cast<off_t>(done));
    if (n < 0) throw_errno("upload " + id + ": read its data");
    if (n == 0) throw Error("upload " + id + ": data shorter than its recorded offset");
    s->hash->update(std::string_view(buf, static_cast<size_t>(n)));
    done += static_cast<uint64_t>(n);
  }
  if (::lseek(s->fd.get(), static_cast<off_t>(s->offset), SEEK_SET) < 0)
    throw_errno("upload " + id + ": seek");
  s->used = std::chrono::steady_clock::now();
  log::info("upload " + id + " of " + s->repo + " resumed at " + std::to_string(s->offset) +
            " bytes");
  return s;
}

std::shared_ptr<Uploads::Session> Uploads::find(const std::string& repo, const std::string& id) {
  if (!valid_id(id)) unknown(id);
  std::lock_guard lock(mu_);
  auto it = sessions_.find(id);
  std::shared_ptr<Session> s;
  if (it != sessions_.end()) {
    s = it->second;
  } else {
    s = load(id);
    if (!s) unknown(id);
    sessions_.emplace(id, s);
  }
  if (s->repo != repo) unknown(id);
  return s;
}

void Uploads::pour(Session& s, const BodyReader& body) {
  char buf[1 << 16];
  for (;;) {
    size_t n = body(buf, sizeof buf);
    if (n == 0) break;
    std::string_view chunk(buf, n);
    write_all(s.fd.get(), chunk);
    s.hash->update(chunk);
    s.offset += n;
  }
}

void Uploads::end(Session& s) {
  s.ended = true;
  s.fd.reset();
  remove_all(s.dir);
  std::lock_guard lock(mu_);
  sessions_.erase(s.id);
}

uint64_t Uploads::append(const std::string& repo, const std::string& id, std::optional<uint64_t> at,
                         const BodyReader& body) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (s->ended) unknown(id);
  if (at && *at != s->offset)
    throw RegistryError(ErrorCode::kRangeInvalid, "chunk starts at " + std::to_string(*at) +
                                                      " but the upload has " +
                                                      std::to_string(s->offset) + " bytes");
  try {
    pour(*s, body);
  } catch (const RegistryError&) {
    // The client went away mid-chunk: what arrived stays, and the client may ask where
    // the upload is and go on from there.
    save(*s);
    throw;
  } catch (...) {
    // The disk failed: the session cannot go on.
    end(*s);
    throw;
  }
  save(*s);
  return s->offset;
}

uint64_t Uploads::received(const std::string& repo, const std::string& id) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (s->ended) unknown(id);
  return s->offset;
}

void Uploads::finish(const std::string& repo, const std::string& id, const std::string& digest,
                     const BodyReader& body) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (s->ended) unknown(id);
  // Whatever happens now the session is over: a cut body or a wrong digest leaves no file.
  try {
    pour(*s, body);
  } catch (...) {
    end(*s);
    throw;
  }
  std::string got = s->hash->digest();
  if (got != digest) {
    end(*s);
    throw RegistryError(ErrorCode::kDigestInvalid, "provided digest did not match uploaded content",
                        nlohmann::json{{"digest", digest}});
  }
  s->fd.reset();
  // The uploads and the content store share the root's file system: a rename publishes.
  std::string data = s->dir + "/data";
  if (::rename(data.c_str(), storage_.blobs().path(digest).c_str()) < 0) {
    int err = errno;
    end(*s);
    throw_errno("upload " + id + ": publish " + digest, err);
  }
  end(*s);
  storage_.link_blob(repo, digest);
}

void Uploads::cancel(const std::string& repo, const std::string& id) {
  auto s = find(repo, id);
  std::lock_guard lock(s->mu);
  if (s->ended) unknown(id);
  end(*s);
}

void Uploads::put_monolithic(const std::string& repo, const std::string& digest,
                             const BodyReader& body) {
  auto writer = storage_.blobs().writer();
  char buf[1 << 16];
  for (;;) {
    size_t n = body(buf, sizeof buf);
    if (n == 0) break;
    writer->write(std::string_view(buf, n));
  }
  try {
    writer->commit(digest);
  } catch (const Error& e) {
    if (e.code() != 0) throw;  // the disk, not the digest
    throw RegistryError(ErrorCode::kDigestInvalid, "provided digest did not match uploaded content",
                        nlohmann::json{{"digest", digest}});
  }
  storage_.link_blob(repo, digest);
}

}  // namespace berth::registry
