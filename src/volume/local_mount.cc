#include "volume/local_mount.h"

#include <sys/mount.h>

#include <cerrno>
#include <utility>

#include "base/error.h"
#include "base/fs.h"

namespace berth::volume {
namespace {

// mount(8)'s flag words; everything else in `o` is the file system's own data.
const std::map<std::string, std::pair<unsigned long, bool>>& flag_words() {
  static const std::map<std::string, std::pair<unsigned long, bool>> words = {
      {"ro", {MS_RDONLY, true}},
      {"rw", {MS_RDONLY, false}},
      {"nosuid", {MS_NOSUID, true}},
      {"suid", {MS_NOSUID, false}},
      {"nodev", {MS_NODEV, true}},
      {"dev", {MS_NODEV, false}},
      {"noexec", {MS_NOEXEC, true}},
      {"exec", {MS_NOEXEC, false}},
      {"sync", {MS_SYNCHRONOUS, true}},
      {"async", {MS_SYNCHRONOUS, false}},
      {"dirsync", {MS_DIRSYNC, true}},
      {"noatime", {MS_NOATIME, true}},
      {"atime", {MS_NOATIME, false}},
      {"nodiratime", {MS_NODIRATIME, true}},
      {"diratime", {MS_NODIRATIME, false}},
      {"relatime", {MS_RELATIME, true}},
      {"norelatime", {MS_RELATIME, false}},
      {"strictatime", {MS_STRICTATIME, true}},
      {"bind", {MS_BIND, true}},
      {"rbind", {MS_BIND | MS_REC, true}},
      {"defaults", {0, false}},
  };
  return words;
}

}  // namespace

void check_local_options(const std::map<std::string, std::string>& opts) {
  for (auto& [key, value] : opts) {
    if (key == "size") throw InvalidArgument("quota size requested but no quota support");
    if (key != "type" && key != "device" && key != "o")
      throw InvalidArgument("invalid option: \"" + key + "\"");
  }
  // What each option needs beside it, as Docker's local driver checks.
  auto need = [&](const char* key, const char* other) {
    if (opts.count(key) && !opts.count(other))
      throw InvalidArgument(std::string("missing required option: \"") + other + "\"");
  };
  need("type", "device");
  need("device", "type");
  need("o", "device");
  need("o", "type");
}

void mount_local(const std::map<std::string, std::string>& opts, const std::string& target) {
  auto get = [&](const char* key) {
    auto it = opts.find(key);
    return it == opts.end() ? std::string() : it->second;
  };
  unsigned long flags = 0;
  std::string data;
  for (auto& word : split(get("o"), ',')) {
    if (word.empty()) continue;
    if (auto it = flag_words().find(word); it != flag_words().end()) {
      auto [bit, set] = it->second;
      flags = set ? flags | bit : flags & ~bit;
      continue;
    }
    data += (data.empty() ? "" : ",") + word;
  }
  std::string device = get("device"), type = get("type");
  if (::mount(device.c_str(), target.c_str(), type.c_str(), flags,
              data.empty() ? nullptr : data.c_str()) < 0)
    throw_errno("mount " + device + " (type " + type + ") on " + target);
  // A bind takes its flags only on a remount.
  if ((flags & MS_BIND) && (flags & ~(MS_BIND | MS_REC)) &&
      ::mount(nullptr, target.c_str(), nullptr, flags | MS_REMOUNT, nullptr) < 0) {
    int err = errno;
    ::umount2(target.c_str(), MNT_DETACH);
    throw_errno("remount " + target, err);
  }
}

void unmount_local(const std::string& target) {
  if (::umount2(target.c_str(), MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
    throw_errno("unmount " + target);
}

}  // namespace berth::volume
