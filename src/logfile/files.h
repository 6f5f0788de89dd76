// The files of one container log: the live file at `path`, and the rotated ones beside it,
// `path.1` (the newest) to `path.N`, each either plain or, with compress, `path.N.gz`.
#pragma once

#include <string>
#include <vector>

namespace berth::logfile {

struct RotatedFile {
  int index;  // 1 is the newest
  std::string path;
  bool plain, gz;  // both while a compression is ending, or after a kill in between
};

// The rotated files, oldest first. Found by name in the directory, so that a gap left by a
// kill during a rotation loses nothing.
std::vector<RotatedFile> rotated_files(const std::string& path);

// Writes `src` gzip-compressed as `dst`: first under a temporary name, renamed once complete
// and synced, so that a `dst` that exists is always whole.
void compress_file(const std::string& src, const std::string& dst);
// The temporary name compress_file writes `dst` under.
std::string partial_name(const std::string& dst);

}  // namespace berth::logfile
