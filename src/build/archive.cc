// ADD's local archives: a tar (plain, gzip, bzip2, xz or zstd) unpacked into a directory of
// the snapshot. Every entry is resolved below the snapshot's root, so no name, ".." or link
// in the archive or the image leads out of it.
#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <memory>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "build/copy.h"

namespace berth::build {

void unpack_archive(int src, int dst_root, const std::string& dest, const std::string& name) {
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_filter_all(a.get());
  archive_read_support_format_tar(a.get());
  archive_read_support_format_gnutar(a.get());
  if (::lseek(src, 0, SEEK_SET) < 0) throw_errno("seek " + name);
  if (archive_read_open_fd(a.get(), src, 1 << 16) != ARCHIVE_OK)
    throw InvalidArgument("ADD failed: " + name + ": " + archive_error_string(a.get()));
  make_dirs(dst_root, dest);
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r < ARCHIVE_WARN)
      throw InvalidArgument("ADD failed: " + name + ": " + archive_error_string(a.get()));
    std::string rel = clean_path("/" + std::string(archive_entry_pathname(e)));
    if (rel == "/") continue;
    std::string path = clean_path(dest + rel);
    std::string parent_path = path.substr(0, path.find_last_of('/'));
    std::string base = path.substr(path.find_last_of('/') + 1);
    make_dirs(dst_root, parent_path.empty() ? "/" : parent_path);
    UniqueFd parent(open_in_root(dst_root, parent_path, O_PATH | O_DIRECTORY));
    if (!parent) throw_errno("ADD failed: open " + parent_path);
    mode_t type = archive_entry_filetype(e);
    struct stat existing {};
    bool exists = ::fstatat(parent.get(), base.c_str(), &existing, AT_SYMLINK_NOFOLLOW) == 0;
    if (exists && !(type == AE_IFDIR && S_ISDIR(existing.st_mode)))
      ::unlinkat(parent.get(), base.c_str(), S_ISDIR(existing.st_mode) ? AT_REMOVEDIR : 0);
    if (const char* hard = archive_entry_hardlink(e)) {
      std::string target = clean_path(dest + clean_path("/" + std::string(hard)));
      UniqueFd t(open_in_root(dst_root, target, O_PATH));
      if (!t) throw_errno("ADD failed: link " + std::string(hard));
      if (::linkat(t.get(), "", parent.get(), base.c_str(), AT_EMPTY_PATH) < 0)
        throw_errno("ADD failed: link " + path);
      continue;
    }
    if (type == AE_IFDIR) {
      if (!exists && ::mkdirat(parent.get(), base.c_str(), 0755) < 0)
        throw_errno("ADD failed: mkdir " + path);
    } else if (type == AE_IFLNK) {
      if (::symlinkat(archive_entry_symlink(e), parent.get(), base.c_str()) < 0)
        throw_errno("ADD failed: symlink " + path);
    } else if (type == AE_IFREG) {
      UniqueFd out(::openat(parent.get(), base.c_str(),
                            O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
      if (!out) throw_errno("ADD failed: create " + path);
      const void* buf = nullptr;
      size_t size = 0;
      la_int64_t offset = 0;
      while ((r = archive_read_data_block(a.get(), &buf, &size, &offset)) == ARCHIVE_OK)
        if (::pwrite(out.get(), buf, size, offset) != static_cast<ssize_t>(size))
          throw_errno("ADD failed: write " + path);
      if (r != ARCHIVE_EOF)
        throw InvalidArgument("ADD failed: " + name + ": " + archive_error_string(a.get()));
    } else {
      continue;  // devices and fifos are not made, as in image layers
    }
    int flags = AT_SYMLINK_NOFOLLOW;
    if (::fchownat(parent.get(), base.c_str(), static_cast<uid_t>(archive_entry_uid(e)),
                   static_cast<gid_t>(archive_entry_gid(e)), flags) < 0)
      throw_errno("ADD failed: chown " + path);
    if (type == AE_IFLNK) continue;
    if (::fchmodat(parent.get(), base.c_str(), archive_entry_perm(e), 0) < 0)
      throw_errno("ADD failed: chmod " + path);
    timespec times[2] = {{archive_entry_mtime(e), 0}, {archive_entry_mtime(e), 0}};
    ::utimensat(parent.get(), base.c_str(), times, flags);
  }
}

}  // namespace berth::build
