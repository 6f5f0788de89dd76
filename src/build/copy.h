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
  std::string dest;                  // absolute, a trailing '/' kept
  // --chown as written: user[:group], names looked up in the destination's /etc/passwd and
  // /etc/group; a user alone gives its uid as the gid too, as Docker does.
  std::string chown;
  std::optional<uint32_t> chmod;
  bool from_context = true;  // the .dockerignore applies, and Docker's context words
  const DockerIgnore* ignore = nullptr;
  bool unpack_archives = false;  // ADD: local tar archives are extracted
  std::string keyword = "COPY";  // for messages
};

// The sources after wildcards, checked (outside the root, missing), each relative to it.
struct ResolvedCopy {
  std::vector<std::string> sources;
  bool single_file = false;
  bool single_dir = false;
  std::string checksum;  // "file:<hex>", "dir:<hex>" or "multi:<hex>"
};

ResolvedCopy resolve_copy(int src_root, const CopyRequest& req);
// Writes the resolved sources into `dst_root` with Docker's destination rules.
void perform_copy(int src_root, int dst_root, const CopyRequest& req, const ResolvedCopy& rc);
// WORKDIR: the directory and its parents, made where missing.
void make_dirs(int dst_root, const std::string& path);
// `rel` below `root` as if `root` were "/"; -1 with errno when it cannot be opened.
int open_in_root(int root, const std::string& rel, int flags);
// tar, gzip, bzip2, xz or zstd, by their magic numbers.
bool looks_like_archive(int fd);
// ADD: the archive open at `src` unpacked into the directory `dest` below `dst_root`.
void unpack_archive(int src, int dst_root, const std::string& dest, const std::string& name);

}  // namespace berth::build
