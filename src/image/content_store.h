// Blobs by digest under <root>/sha256/<hex>: verified while written, published atomically
// (temp file, rename), so a reader never sees a partial or wrong blob.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "image/digest.h"

namespace berth::image {

class ContentStore;

// Streams one blob in. commit() checks the digest (and size, when expected) and publishes;
// destruction without commit removes the partial file.
class BlobWriter {
 public:
  BlobWriter(std::string dir, std::string tmp, UniqueFd fd);
  BlobWriter(const BlobWriter&) = delete;
  BlobWriter& operator=(const BlobWriter&) = delete;
  ~BlobWriter();
  void write(std::string_view data);
  uint64_t size() const { return size_; }
  // Returns the digest. Throws, leaving nothing behind, when `expected` does not match.
  std::string commit(const std::optional<std::string>& expected_digest = std::nullopt,
                     std::optional<uint64_t> expected_size = std::nullopt);

 private:
  void discard();

  std::string dir_, tmp_;
  UniqueFd fd_;
  Sha256 hash_;
  uint64_t size_ = 0;
  bool done_ = false;
};

class ContentStore {
 public:
  explicit ContentStore(std::string root);

  std::unique_ptr<BlobWriter> writer();
  // Writes a whole blob; returns its digest.
  std::string put(std::string_view data,
                  const std::optional<std::string>& expected_digest = std::nullopt);
  bool has(const std::string& digest) const;
  std::string path(const std::string& digest) const;
  std::string read(const std::string& digest) const;
  uint64_t size(const std::string& digest) const;
  // Removing a missing blob is not an error.
  void remove(const std::string& digest);
  std::vector<std::string> list() const;
  // Removes blobs that were being written when the daemon died.
  void clear_temporary();

 private:
  std::string root_;
};

}  // namespace berth::image
