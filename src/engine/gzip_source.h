// A layer blob read from the content store and gzip-compressed on the way out, as registries
// expect layers; the digest of what it produced is known at its end.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>

#include "base/fd.h"
#include "image/digest.h"

namespace berth::engine {

class GzipSource {
 public:
  explicit GzipSource(const std::string& path);
  ~GzipSource();
  GzipSource(const GzipSource&) = delete;
  GzipSource& operator=(const GzipSource&) = delete;

  // Fills `buf` with compressed bytes; 0 at the end.
  size_t read(char* buf, size_t len);
  uint64_t consumed() const { return consumed_; }  // uncompressed bytes read so far
  uint64_t produced() const { return produced_; }
  // Once read() has returned 0.
  const std::string& digest();

 private:
  UniqueFd fd_;
  z_stream zs_{};
  std::string in_;
  bool eof_ = false, finished_ = false;
  uint64_t consumed_ = 0, produced_ = 0;
  image::Sha256 hash_;
  std::string digest_;
};

}  // namespace berth::engine
