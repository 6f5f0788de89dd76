// Small file-system helpers that report the path and errno on failure.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"

namespace berth {

UniqueFd open_or_throw(const std::string& path, int flags, mode_t mode = 0);
UniqueFd openat_or_throw(int dirfd, const std::string& path, int flags, mode_t mode = 0);

std::string read_file(const std::string& path);
// Returns nullopt when the file does not exist; other errors throw.
std::optional<std::string> read_file_if_exists(const std::string& path);
std::string read_fd(int fd);
void write_file(const std::string& path, std::string_view data, int flags = 0);
// Writes to a temporary file beside `path` and renames it over `path`: a reader sees the old
// content or the new, never a mix. kSynced also fsyncs first, so that the new content
// survives a power loss; kCrashSafe is enough for what only has to survive a killed process
// (runtime state under /run, files regenerated at every container start).
enum class Durability { kSynced, kCrashSafe };
void write_file_atomic(const std::string& path, std::string_view data, mode_t mode = 0644,
                       Durability durability = Durability::kSynced);
void write_all(int fd, std::string_view data);

void mkdir_p(const std::string& path, mode_t mode = 0755);
// Removes a directory tree; missing paths are not an error.
void remove_all(const std::string& path);
bool path_exists(const std::string& path);
// True when something is mounted on `path` (a bind of the same file system too).
bool is_mountpoint(const std::string& path);
std::vector<std::string> list_dir(const std::string& path);

std::string path_join(std::string_view a, std::string_view b);
std::string trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep);

// The bytes of the regular files and symlinks under `dir` (their apparent sizes, as Docker's
// SizeRw counts them), not following links nor crossing into other mounts; 0 if it is gone.
int64_t tree_size(const std::string& dir);

}  // namespace berth
