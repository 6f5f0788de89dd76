#include "image/content_store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/error.h"
#include "base/fs.h"

namespace berth::image {

BlobWriter::BlobWriter(std::string dir, std::string tmp, UniqueFd fd)
    : dir_(std::move(dir)), tmp_(std::move(tmp)), fd_(std::move(fd)) {}

BlobWriter::~BlobWriter() {
  if (!done_) discard();
}

void BlobWriter::discard() {
  fd_.reset();
  ::unlink(tmp_.c_str());
  done_ = true;
}

void BlobWriter::write(std::string_view data) {
  try {
    write_all(fd_.get(), data);
  } catch (const std::exception& e) {
    // ENOSPC and friends: the partial blob goes with the error.
    discard();
    rethrow_with_context(e, "content store: write blob");
  }
  hash_.update(data);
  size_ += data.size();
}

std::string BlobWriter::commit(const std::optional<std::string>& expected_digest,
                               std::optional<uint64_t> expected_size) {
  std::string digest = hash_.digest();
  if (expected_size && *expected_size != size_) {
    discard();
    throw Error("content store: blob " + expected_digest.value_or(digest) + " has " +
                std::to_string(size_) + " bytes, expected " + std::to_string(*expected_size));
  }
  if (expected_digest && *expected_digest != digest) {
    discard();
    throw Error("content store: digest mismatch: expected " + *expected_digest + ", got " + digest);
  }
  // No fsync: like the unpacked layers beside them (and Docker's), blobs are made to survive
  // a killed daemon, not a power loss; an fsync here would wait for hundreds of megabytes
  // to reach the disk on every load.
  fd_.reset();
  std::string final_path = path_join(dir_, digest.substr(7));
  if (::rename(tmp_.c_str(), final_path.c_str()) < 0) {
    int err = errno;
    discard();
    throw_errno("content store: publish " + digest, err);
  }
  done_ = true;
  return digest;
}

ContentStore::ContentStore(std::string root) : root_(std::move(root)) {
  mkdir_p(path_join(root_, "sha256"), 0700);
  mkdir_p(path_join(root_, "tmp"), 0700);
}

std::unique_ptr<BlobWriter> ContentStore::writer() {
  std::string tmpl = path_join(root_, "tmp/blob-XXXXXX");
  int fd = ::mkostemp(tmpl.data(), O_CLOEXEC);
  if (fd < 0) throw_errno("content store: create temporary blob in " + root_);
  return std::make_unique<BlobWriter>(path_join(root_, "sha256"), tmpl, UniqueFd(fd));
}

std::string ContentStore::put(std::string_view data,
                              const std::optional<std::string>& expected_digest) {
  if (expected_digest) {
    check_digest(*expected_digest);
    if (has(*expected_digest)) return *expected_digest;
  }
  auto w = writer();
  w->write(data);
  return w->commit(expected_digest, data.size());
}

std::string ContentStore::path(const std::string& digest) const {
  check_digest(digest);
  return path_join(root_, "sha256/" + digest.substr(7));
}

bool ContentStore::has(const std::string& digest) const {
  return path_exists(path(digest));
}

std::string ContentStore::read(const std::string& digest) const {
  auto data = read_file_if_exists(path(digest));
  if (!data) throw Error("content store: blob " + digest + " not found", ENOENT);
  return *data;
}

uint64_t ContentStore::size(const std::string& digest) const {
  struct stat st;
  if (::stat(path(digest).c_str(), &st) < 0) throw_errno("content store: blob " + digest);
  return static_cast<uint64_t>(st.st_size);
}

void ContentStore::remove(const std::string& digest) {
  if (::unlink(path(digest).c_str()) < 0 && errno != ENOENT)
    throw_errno("content store: remove " + digest);
}

std::vector<std::string> ContentStore::list() const {
  std::vector<std::string> out;
  for (auto& name : list_dir(path_join(root_, "sha256"))) {
    std::string d = "sha256:" + name;
    if (is_digest(d)) out.push_back(d);
  }
  return out;
}

void ContentStore::clear_temporary() {
  for (auto& name : list_dir(path_join(root_, "tmp")))
    ::unlink(path_join(path_join(root_, "tmp"), name).c_str());
}

}  // namespace berth::image
