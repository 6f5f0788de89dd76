#include "image/decompress.h"

#include <archive.h>
#include <archive_entry.h>

#include <memory>
#include <vector>

#include "base/error.h"

namespace berth::image {
namespace {

struct Source {
  const ReadFn* read;
  std::vector<char> buf;
  std::string error;
};

la_ssize_t read_cb(archive*, void* ctx, const void** out) {
  auto* s = static_cast<Source*>(ctx);
  try {
    size_t n = (*s->read)(s->buf.data(), s->buf.size());
    *out = s->buf.data();
    return static_cast<la_ssize_t>(n);
  } catch (const std::exception& e) {
    s->error = e.what();
    return -1;
  }
}

}  // namespace

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
  Source s{&src, std::vector<char>(1 << 20), ""};
  if (archive_read_open(a.get(), &s, nullptr, read_cb, nullptr) != ARCHIVE_OK)
    throw InvalidArgument("read archive: " +
                          (s.error.empty() ? archive_error_string(a.get()) : s.error));
  archive_entry* e;
  int rc = archive_read_next_header(a.get(), &e);
  if (rc == ARCHIVE_EOF) throw InvalidArgument("archive is empty");
  if (rc != ARCHIVE_OK)
    throw InvalidArgument("read archive: " +
                          (s.error.empty() ? archive_error_string(a.get()) : s.error));
  auto w = content.writer();
  std::vector<char> buf(1 << 20);
  for (;;) {
    la_ssize_t n = archive_read_data(a.get(), buf.data(), buf.size());
    if (n == 0) break;
    if (n < 0)
      throw InvalidArgument("read archive: " +
                            (s.error.empty() ? archive_error_string(a.get()) : s.error));
    w->write(std::string_view(buf.data(), static_cast<size_t>(n)));
  }
  if (w->size() == 0) throw InvalidArgument("archive is empty");
  return w->commit();
}

}  // namespace berth::image
