#include "engine/gzip_source.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fs.h"

namespace berth::engine {

GzipSource::GzipSource(const std::string& path)
    : fd_(open_or_throw(path, O_RDONLY | O_CLOEXEC)), in_(512 * 1024, '\0') {
  // Level 1: on loopback and fast links the compressor, not the wire, sets the pace. No name
  // and no time in the header, so the same layer always gives the same blob.
  if (deflateInit2(&zs_, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    throw Error("deflateInit2 failed");
}

GzipSource::~GzipSource() {
  deflateEnd(&zs_);
}

size_t GzipSource::read(char* buf, size_t len) {
  if (finished_) return 0;
  zs_.next_out = reinterpret_cast<Bytef*>(buf);
  zs_.avail_out = static_cast<uInt>(len);
  while (zs_.avail_out > 0 && !finished_) {
    if (zs_.avail_in == 0 && !eof_) {
      ssize_t n = ::read(fd_.get(), in_.data(), in_.size());
      if (n < 0) throw_errno("read layer");
      if (n == 0) eof_ = true;
      consumed_ += static_cast<uint64_t>(n);
      zs_.next_in = reinterpret_cast<Bytef*>(in_.data());
      zs_.avail_in = static_cast<uInt>(n);
    }
    int rc = deflate(&zs_, eof_ ? Z_FINISH : Z_NO_FLUSH);
    if (rc == Z_STREAM_END)
      finished_ = true;
    else if (rc != Z_OK && rc != Z_BUF_ERROR)
      throw Error("gzip: deflate failed");
  }
  size_t n = len - zs_.avail_out;
  hash_.update(std::string_view(buf, n));
  produced_ += n;
  return n;
}

const std::string& GzipSource::digest() {
  if (digest_.empty()) digest_ = hash_.digest();
  return digest_;
}

}  // namespace berth::engine
