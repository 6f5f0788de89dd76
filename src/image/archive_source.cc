#include "image/archive_source.h"

#include <archive.h>

#include <cerrno>

namespace berth::image {

long ArchiveSource::callback(archive* a, void* ctx, const void** out) {
  auto* s = static_cast<ArchiveSource*>(ctx);
  try {
    *out = s->buf_.data();
    return static_cast<long>(s->read_(s->buf_.data(), s->buf_.size()));
  } catch (const std::exception& e) {
    // Exceptions must not cross libarchive's C frames: kept, and reported by error().
    s->error_ = e.what();
    archive_set_error(a, EIO, "%s", e.what());
    return -1;
  }
}

int ArchiveSource::open(archive* a) {
  return archive_read_open(a, this, nullptr, callback, nullptr);
}

std::string ArchiveSource::error(archive* a) const {
  if (!error_.empty()) return error_;
  const char* msg = archive_error_string(a);
  return msg ? msg : "unknown archive error";
}

}  // namespace berth::image
