#include "image/decompress.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

#include "base/error.h"
#include "image/archive_source.h"

namespace berth::image {

Compression detect_compression(std::string_view h) {
  auto starts = [&](std::string_view m) { return h.substr(0, m.size()) == m; };
  if (starts("\x1f\x8b")) return Compression::kGzip;
  if (starts("\x28\xb5\x2f\xfd")) return Compression::kZstd;
  if (starts("BZh")) return Compression::kBzip2;
  if (starts(std::string_view("\xfd\x37\x7a\x58\x5a\x00", 6))) return Compression::kXz;
  return Compression::kNone;
}

std::string store_decompressed(ContentStore& content, const ReadFn& src) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  // The raw format hands back the stream itself, after whatever filter it was wrapped in.
  archive_read_support_format_raw(a.get());
  archive_read_support_filter_gzip(a.get());
  archive_read_support_filter_zstd(a.get());
  archive_read_support_filter_bzip2(a.get());
  archive_read_support_filter_xz(a.get());
  ArchiveSource s(src);
  if (s.open(a.get()) != ARCHIVE_OK) throw InvalidArgument("read archive: " + s.error(a.get()));
  archive_entry* e;
  int rc = archive_read_next_header(a.get(), &e);
  if (rc == ARCHIVE_EOF) throw InvalidArgument("archive is empty");
  if (rc != ARCHIVE_OK) throw InvalidArgument("read archive: " + s.error(a.get()));
  auto w = content.writer();
  std::vector<char> buf(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0) throw InvalidArgument("read archive: " + s.error(a.get()));
    w->write(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (w->size() == 0) throw InvalidArgument("archive is empty");
  return w->commit();
}

}  // namespace berth::image
