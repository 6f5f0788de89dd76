#include "engine/rootfs_export.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <memory>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace berth::engine {
namespace {

struct Sink {
  const std::function<void(std::string_view)>* out;
  std::string error;
};

la_ssize_t write_cb(archive*, void* ctx, const void* buf, size_t len) {
  auto* s = static_cast<Sink*>(ctx);
  try {
    (*s->out)(std::string_view(static_cast<const char*>(buf), len));
    return static_cast<la_ssize_t>(len);
  } catch (const std::exception& e) {
    s->error = e.what();
    return -1;
  }
}

}  // namespace

void write_rootfs_tar(const std::string& root, const std::function<void(std::string_view)>& out) {
  Sink sink{&out, ""};
  std::unique_ptr<archive, decltype(&archive_write_free)> w(archive_write_new(),
                                                            archive_write_free);
  std::unique_ptr<archive, decltype(&archive_read_free)> disk(archive_read_disk_new(),
                                                              archive_read_free);
  auto fail = [&](archive* a, const std::string& what) {
    throw Error("export: " + what + ": " +
                (sink.error.empty() ? std::string(archive_error_string(a)) : sink.error));
  };
  archive_write_set_format_pax_restricted(w.get());
  archive_write_set_bytes_per_block(w.get(), 0);
  if (archive_write_open(w.get(), &sink, nullptr, write_cb, nullptr) != ARCHIVE_OK)
    fail(w.get(), "open");
  // Symlinks are archived as links, never followed: the image's links point inside the
  // container, not at the host.
  archive_read_disk_set_symlink_physical(disk.get());
  archive_read_disk_set_standard_lookup(disk.get());
  if (archive_read_disk_open(disk.get(), root.c_str()) != ARCHIVE_OK) fail(disk.get(), root);
  std::vector<char> buf(1 << 20);
  for (;;) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    int rc = archive_read_next_header2(disk.get(), e.get());
    if (rc == ARCHIVE_EOF) break;
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) fail(disk.get(), "read");
    archive_read_disk_descend(disk.get());
    std::string path = archive_entry_pathname(e.get());
    std::string rel = path.size() > root.size() ? path.substr(root.size() + 1) : ".";
    archive_entry_set_pathname(e.get(), rel.c_str());
    if (archive_write_header(w.get(), e.get()) != ARCHIVE_OK) fail(w.get(), rel);
    if (archive_entry_filetype(e.get()) == AE_IFREG && archive_entry_size(e.get()) > 0) {
      UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
      if (!fd) throw_errno("export: open " + rel);
      ssize_t n;
      while ((n = ::read(fd.get(), buf.data(), buf.size())) > 0)
        if (archive_write_data(w.get(), buf.data(), static_cast<size_t>(n)) < 0) fail(w.get(), rel);
    }
  }
  if (archive_write_close(w.get()) != ARCHIVE_OK) fail(w.get(), "close");
}

}  // namespace berth::engine
