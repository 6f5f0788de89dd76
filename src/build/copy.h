// COPY and ADD's files: sources resolved in a root (the context, or another stage's image),
// Docker's rules for directories, wildcards and destinations, a checksum for the cache, and
// the copy itself into a snapshot's root.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "build/build.h"

namespace berth::build {

struct CopyRequest {
  std::vector<std::string> sources;  // as written (expanded), relative to the source root
  // Here-documents: files of these names and contents (0644 unless --chmod), no source.
  std::vector<std::pair<std::string, std::string>> inline_files;
  std::string dest;  // absolute, a trailing '/' kept
  // --chown as written: user[:group], names looked up in the destination's /etc/passwd and
  // /etc/group; a user alone gives its uid as the gid too, as Docker does.
  std::string chown;
  std::optional<uint32_t> chmod;
  bool from_context = true;  // the .dockerignore applies, and Docker's context words
  const DockerIgnore* ignore = nullptr;
  bool unpack_archives = false;  // ADD: local tar archives are extracted
  // --exclude: .dockerignore's rules, matched against paths below each source (a wildcard's
  // matches by their names).
  DockerIgnore exclude;
  // --parents: each source keeps its path below the root (or below a `/./` in it).
  bool parents = false;
  // --chown already resolved (--link resolves names in the stage's image, not the layer).
  std::optional<std::pair<uint32_t, uint32_t>> owner;
  std::string keyword = "COPY";  // for messages
};

// The sources after wildcards, checked (outside the root, missing), each relative to it.
struct ResolvedCopy {
  std::vector<std::string> sources;
  bool single_file = false;
  bool single_dir = false;
  std::vector<std::string> kept;  // --parents: each source's path below the destination
  std::string checksum;           // "file:<hex>", "dir:<hex>" or "multi:<hex>"
};

ResolvedCopy resolve_copy(int src_root, const CopyRequest& req);
// Writes the resolved sources into `dst_root` with Docker's destination rules.
void perform_copy(int src_root, int dst_root, const CopyRequest& req, const ResolvedCopy& rc);
// --chown's user[:group] as ids, names looked up in the root's /etc/passwd and /etc/group.
std::optional<std::pair<uint32_t, uint32_t>> resolve_owner(int root, const std::string& spec);
// A directory of the destination's path as the image has it (COPY --link).
struct DirMeta {
  std::string path;
  uint32_t mode = 0755, uid = 0, gid = 0;
  int64_t mtime_sec = 0, mtime_nsec = 0;
};
// The directories of `path` that exist below `root`, from the top down.
std::vector<DirMeta> existing_dirs(int root, const std::string& path);
// Makes them below `root` with their modes, owners and times.
void make_dirs_like(int root, const std::vector<DirMeta>& dirs);
// WORKDIR: the directory and its parents, made where missing.
void make_dirs(int dst_root, const std::string& path);
// `rel` below `root` as if `root` were "/"; -1 with errno when it cannot be opened.
int open_in_root(int root, const std::string& rel, int flags);
// tar, gzip, bzip2, xz or zstd, by their magic numbers.
bool looks_like_archive(int fd);
// ADD: the archive open at `src` unpacked into the directory `dest` below `dst_root`.
void unpack_archive(int src, int dst_root, const std::string& dest, const std::string& name);

}  // namespace berth::build
