// The tar format as `cp` needs it on the client side: a writer of POSIX (pax) archives and a
// push parser of ustar, pax and GNU ones. The berth binary is linked statically and Debian
// ships libarchive's dependencies (zstd, lz4, acl) as shared libraries only, so the CLI
// carries this small codec; berthd, linked dynamically, uses libarchive.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace berth::cli {

enum class TarType : char {
  kFile = '0',
  kHardLink = '1',
  kSymlink = '2',
  kCharDevice = '3',
  kBlockDevice = '4',
  kDirectory = '5',
  kFifo = '6',
};

struct TarHeader {
  std::string name;
  std::string link;  // a symlink's target or a hard link's first name
  TarType type = TarType::kFile;
  uint32_t mode = 0;  // permission bits with setuid, setgid and sticky
  int64_t uid = 0, gid = 0;
  int64_t size = 0;
  int64_t mtime = 0;  // seconds since the epoch
  uint32_t dev_major = 0, dev_minor = 0;
};

class TarWriter {
 public:
  using Sink = std::function<void(std::string_view)>;
  explicit TarWriter(Sink sink) : sink_(std::move(sink)) {}
  // The header; a file's `size` bytes must follow through data().
  void header(const TarHeader& h);
  void data(std::string_view bytes);
  // Pads the last file and writes the end-of-archive blocks.
  void finish();

 private:
  void pad();
  Sink sink_;
  int64_t pending_ = 0;  // bytes of the current file still expected
  int64_t written_ = 0;  // bytes of the current file written
};

// Fed the archive as it arrives; calls on_entry for each header and on_data for the pieces of
// a file's content. Throws Error on a malformed archive.
class TarReader {
 public:
  using EntryFn = std::function<void(const TarHeader&)>;
  using DataFn = std::function<void(std::string_view)>;
  TarReader(EntryFn on_entry, DataFn on_data)
      : on_entry_(std::move(on_entry)), on_data_(std::move(on_data)) {}
  void feed(std::string_view bytes);
  // True once the end-of-archive block was seen.
  bool done() const { return done_; }
  // Renames entries as they pass: the name of every entry (and hard link target) is given to
  // `fn` before on_entry sees it.
  void set_rename(std::function<std::string(const std::string&)> fn) { rename_ = std::move(fn); }

 private:
  void block(const char* b);
  void apply_pax(const std::string& records);

  EntryFn on_entry_;
  DataFn on_data_;
  std::function<std::string(const std::string&)> rename_;
  std::string partial_;  // an incomplete block
  int64_t data_left_ = 0, pad_left_ = 0;
  // Extended headers (pax 'x', GNU 'L'/'K') being collected for the next entry.
  char collecting_ = 0;
  std::string collected_;
  std::string long_name_, long_link_;
  std::string pax_path_, pax_link_;
  int64_t pax_size_ = -1, pax_uid_ = -1, pax_gid_ = -1, pax_mtime_ = -1;
  bool done_ = false;
};

}  // namespace berth::cli
