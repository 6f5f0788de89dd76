// Docker's archive API over a container's file system (`docker cp`): stat a path, tar it out,
// extract a tar into a directory. Running and stopped containers alike, volumes and bind
// mounts included. Every path, whether the client's, a link's in the container or an archive
// entry's, is resolved with openat2(RESOLVE_IN_ROOT), so no link, ".." or hard link leads a read
// or a write out of the container.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "engine/manager.h"

namespace berth::engine {

// Docker's PathStat, the X-Docker-Container-Path-Stat header.
struct PathStat {
  std::string name;
  int64_t size = 0;
  uint32_t mode = 0;        // Go's os.FileMode bits: the CLI tests ModeDir and ModeSymlink
  int64_t mtime_ns = 0;     // since the epoch
  std::string link_target;  // a symlink's target resolved in the container, as an absolute path

  bool is_dir() const;
  // Docker's JSON, byte for byte: its fields in Go's order, the time as Go's RFC3339Nano.
  nlohmann::ordered_json to_json() const;
};

// Go's os.FileMode of a struct stat's st_mode.
uint32_t go_file_mode(uint32_t st_mode);

// HEAD /containers/{id}/archive: the path itself, a symlink not followed unless the path ends
// in "/" or "/.". A missing path is a NotFound in Docker's words.
PathStat stat_container_path(ContainerManager& m, const std::string& ref, const std::string& path);

// GET /containers/{id}/archive: a tar of the path as `out` takes it, named as Docker names it
// (a directory's entries under its base name, or under "." for a path ending in "/.").
// Publishes `archive-path`.
void archive_container_path(ContainerManager& m, const std::string& ref, const std::string& path,
                            const std::function<void(std::string_view)>& out);

struct ExtractOptions {
  // An entry may not replace a directory with a non-directory or the other way round.
  bool no_overwrite_dir_non_dir = false;
  // Files get the owner of the container's user (Config.User) rather than the archive's.
  bool copy_uid_gid = false;
};

// Pulls the next piece of the archive into `buf`; 0 at its end.
using ArchiveReader = std::function<size_t(char* buf, size_t len)>;

// PUT /containers/{id}/archive: extracts a tar (plain, gzip, bzip2, xz or zstd) into the
// directory at `path`. Archive entries cannot leave that directory: names are cleaned and
// ".." beyond it refused, and links (the container's and those made by earlier entries) are
// followed as if the directory were the root, as Docker does. Publishes `extract-to-dir`.
void extract_to_container_dir(ContainerManager& m, const std::string& ref, const std::string& path,
                              const ExtractOptions& opts, const ArchiveReader& read);

}  // namespace berth::engine
