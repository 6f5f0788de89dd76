// libarchive reading from a ReadFn (an HTTP body, a blob file, another archive's entry).
#pragma once

#include <string>
#include <vector>

#include "image/stream.h"

struct archive;

namespace berth::image {

class ArchiveSource {
 public:
  explicit ArchiveSource(const ReadFn& read) : read_(read), buf_(1 << 20) {}
  // archive_read_open with this source; returns libarchive's status.
  int open(archive* a);
  // Why reading failed: what the ReadFn threw, else libarchive's own message.
  std::string error(archive* a) const;

 private:
  static long callback(archive* a, void* ctx, const void** out);

  const ReadFn& read_;
  std::vector<char> buf_;
  std::string error_;
};

}  // namespace berth::image
