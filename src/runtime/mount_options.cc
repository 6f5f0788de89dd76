// OCI mount option strings -> mount(2) flags, as runc and crun read them.
#include <sys/mount.h>

#include <cstring>
#include <map>

#include "runtime/internal.h"

namespace berth::runtime {
namespace {

struct FlagOption {
  const char* name;
  bool clears;
  unsigned long flag;
};

const FlagOption kFlagOptions[] = {
    {"ro", false, MS_RDONLY},
    {"rw", true, MS_RDONLY},
    {"nosuid", false, MS_NOSUID},
    {"suid", true, MS_NOSUID},
    {"nodev", false, MS_NODEV},
    {"dev", true, MS_NODEV},
    {"noexec", false, MS_NOEXEC},
    {"exec", true, MS_NOEXEC},
    {"sync", false, MS_SYNCHRONOUS},
    {"async", true, MS_SYNCHRONOUS},
    {"dirsync", false, MS_DIRSYNC},
    {"remount", false, MS_REMOUNT},
    {"mand", false, MS_MANDLOCK},
    {"nomand", true, MS_MANDLOCK},
    {"atime", true, MS_NOATIME},
    {"noatime", false, MS_NOATIME},
    {"diratime", true, MS_NODIRATIME},
    {"nodiratime", false, MS_NODIRATIME},
    {"relatime", false, MS_RELATIME},
    {"norelatime", true, MS_RELATIME},
    {"strictatime", false, MS_STRICTATIME},
    {"nostrictatime", true, MS_STRICTATIME},
};

struct PropagationOption {
  const char* name;
  unsigned long flags;
};

const PropagationOption kPropagation[] = {
    {"private", MS_PRIVATE},       {"rprivate", MS_PRIVATE | MS_REC},
    {"shared", MS_SHARED},         {"rshared", MS_SHARED | MS_REC},
    {"slave", MS_SLAVE},           {"rslave", MS_SLAVE | MS_REC},
    {"unbindable", MS_UNBINDABLE}, {"runbindable", MS_UNBINDABLE | MS_REC},
};

// The recursive attributes (mount_setattr with AT_RECURSIVE): attribute, and whether the
// option clears it.
const std::map<std::string, std::pair<uint64_t, bool>> kRecursive = {
    {"rro", {MOUNT_ATTR_RDONLY, false}},
    {"rrw", {MOUNT_ATTR_RDONLY, true}},
    {"rnosuid", {MOUNT_ATTR_NOSUID, false}},
    {"rsuid", {MOUNT_ATTR_NOSUID, true}},
    {"rnodev", {MOUNT_ATTR_NODEV, false}},
    {"rdev", {MOUNT_ATTR_NODEV, true}},
    {"rnoexec", {MOUNT_ATTR_NOEXEC, false}},
    {"rexec", {MOUNT_ATTR_NOEXEC, true}},
    {"rnodiratime", {MOUNT_ATTR_NODIRATIME, false}},
    {"rdiratime", {MOUNT_ATTR_NODIRATIME, true}},
    {"rrelatime", {MOUNT_ATTR_RELATIME, false}},
    {"rnorelatime", {MOUNT_ATTR_RELATIME, true}},
    {"rnoatime", {MOUNT_ATTR_NOATIME, false}},
    {"ratime", {MOUNT_ATTR_NOATIME, true}},
    {"rstrictatime", {MOUNT_ATTR_STRICTATIME, false}},
    {"rnostrictatime", {MOUNT_ATTR_STRICTATIME, true}},
    {"rnosymfollow", {MOUNT_ATTR_NOSYMFOLLOW, false}},
    {"rsymfollow", {MOUNT_ATTR_NOSYMFOLLOW, true}},
};

// Options other runtimes accept that change nothing for mount(2) here.
const char* const kIgnored[] = {"tmpcopyup", "defaults", "auto", "noauto", "nofail", "_netdev"};

}  // namespace

MountOptions parse_mount_options(const std::vector<std::string>& options) {
  MountOptions out;
  for (auto& opt : options) {
    bool matched = false;
    for (auto& f : kFlagOptions) {
      if (opt != f.name) continue;
      matched = true;
      if (f.clears) {
        out.flags &= ~f.flag;
        out.clear_flags |= f.flag;
      } else {
        out.flags |= f.flag;
        out.clear_flags &= ~f.flag;
      }
    }
    for (auto& p : kPropagation) {
      if (opt != p.name) continue;
      matched = true;
      out.propagation.push_back(p.flags);
    }
    if (auto it = kRecursive.find(opt); it != kRecursive.end()) {
      matched = true;
      auto [attr, clears] = it->second;
      if (clears) {
        out.rec_attr_clr |= attr;
        out.rec_attr_set &= ~attr;
      } else {
        out.rec_attr_set |= attr;
        out.rec_attr_clr &= ~attr;
      }
      // The atime attributes are one setting: choosing one clears the others.
      if (attr & MOUNT_ATTR__ATIME) out.rec_attr_clr |= MOUNT_ATTR__ATIME;
    }
    if (opt == "bind" || opt == "rbind") {
      matched = true;
      out.bind = true;
      out.recursive |= opt == "rbind";
    }
    for (auto* ign : kIgnored) matched |= opt == ign;
    if (matched) continue;
    if (!out.data.empty()) out.data.push_back(',');
    out.data += opt;
  }
  return out;
}

}  // namespace berth::runtime
