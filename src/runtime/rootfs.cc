// The container's filesystem view: mounts under the rootfs, pivot_root, masked and read-only
// paths. Runs in the container's process, inside its new mount namespace, before exec.
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/internal.h"

namespace berth::runtime {
namespace {

void do_mount(const std::string& source, const std::string& target, const char* type,
              unsigned long flags, const std::string& data) {
  if (::mount(source.empty() ? nullptr : source.c_str(), target.c_str(), type, flags,
              data.empty() ? nullptr : data.c_str()) < 0) {
    throw_errno("mount " + (source.empty() ? std::string(type ? type : "") : source) + " on " +
                target + (data.empty() ? "" : " (" + data + ")"));
  }
}

// Remounts a bind mount with `flags`. Inside a user namespace the kernel refuses to clear
// nosuid/nodev/noexec that the source mount had, so those are kept on a retry.
void remount_bind(const std::string& target, unsigned long flags) {
  unsigned long base = MS_BIND | MS_REMOUNT;
  if (::mount(nullptr, target.c_str(), nullptr, base | flags, nullptr) == 0) return;
  if (errno != EPERM) throw_errno("remount " + target);
  struct statvfs st;
  if (::statvfs(target.c_str(), &st) < 0) throw_errno("statvfs " + target);
  unsigned long locked = 0;
  if (st.f_flag & ST_NOSUID) locked |= MS_NOSUID;
  if (st.f_flag & ST_NODEV) locked |= MS_NODEV;
  if (st.f_flag & ST_NOEXEC) locked |= MS_NOEXEC;
  if (st.f_flag & ST_NOATIME) locked |= MS_NOATIME;
  if (st.f_flag & ST_NODIRATIME) locked |= MS_NODIRATIME;
  if (st.f_flag & ST_RELATIME) locked |= MS_RELATIME;
  if (::mount(nullptr, target.c_str(), nullptr, base | flags | locked, nullptr) < 0)
    throw_errno("remount " + target);
}

int openat2_in_root(int rootfd, const std::string& path, int flags) {
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  return static_cast<int>(::syscall(SYS_openat2, rootfd, path.c_str(), &how, sizeof how));
}

enum class Leaf { kDir, kFile };

// Resolves `dest` inside the rootfs as if the rootfs were "/" (symlinks cannot escape it),
// creating what is missing, and returns the host path of the result.
std::string make_target(int rootfd, const std::string& dest, Leaf leaf) {
  auto parts = split(dest, '/');
  std::string walked;
  for (size_t i = 0; i < parts.size(); i++) {
    if (parts[i].empty() || parts[i] == ".") continue;
    bool last = i + 1 == parts.size();
    std::string next = walked + "/" + parts[i];
    int fd = openat2_in_root(rootfd, next, O_PATH);
    if (fd < 0 && errno == ENOENT) {
      UniqueFd parent(openat2_in_root(rootfd, walked.empty() ? "/" : walked, O_PATH | O_DIRECTORY));
      if (!parent) throw_errno("open " + walked + " in rootfs");
      int rc = (last && leaf == Leaf::kFile)
                   ? ::mknodat(parent.get(), parts[i].c_str(), S_IFREG | 0644, 0)
                   : ::mkdirat(parent.get(), parts[i].c_str(), 0755);
      if (rc < 0 && errno != EEXIST) throw_errno("create " + next + " in rootfs");
      fd = openat2_in_root(rootfd, next, O_PATH);
    }
    if (fd < 0) throw_errno("resolve " + next + " in rootfs");
    ::close(fd);
    walked = next;
  }
  UniqueFd target(openat2_in_root(rootfd, walked.empty() ? "/" : walked, O_PATH));
  if (!target) throw_errno("resolve " + dest + " in rootfs");
  char buf[PATH_MAX];
  auto link = "/proc/self/fd/" + std::to_string(target.get());
  ssize_t n = ::readlink(link.c_str(), buf, sizeof buf - 1);
  if (n < 0) throw_errno("readlink " + link);
  return std::string(buf, static_cast<size_t>(n));
}

bool is_dir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "rro" and the other recursive options: on the mount and all mounts below it at once.
void set_recursive_attrs(const std::string& target, const MountOptions& opts) {
  if (!opts.rec_attr_set && !opts.rec_attr_clr) return;
  struct mount_attr attr {};
  attr.attr_set = opts.rec_attr_set;
  attr.attr_clr = opts.rec_attr_clr;
  if (::mount_setattr(AT_FDCWD, target.c_str(), AT_RECURSIVE, &attr, sizeof attr) < 0)
    throw_errno("set recursive mount attributes on " + target);
}

void mount_entry(const RootfsContext& ctx, int rootfd, const oci::Mount& m, int source_fd) {
  auto opts = parse_mount_options(m.options);
  bool bind = opts.bind || m.type == "bind";
  if (m.type == "cgroup" || m.type == "cgroup2") {
    if (!ctx.cgroup) throw Error("cgroup mount without a cgroup");
    ctx.cgroup->mount_into(make_target(rootfd, m.destination, Leaf::kDir), opts.flags);
    return;
  }
  if (bind) {
    // Kept in the data string, an option nobody knows would be ignored by the kernel.
    if (!opts.data.empty()) throw Error("unknown bind mount option(s) \"" + opts.data + "\"");
    struct stat st;
    int rc = source_fd >= 0 ? ::fstat(source_fd, &st) : ::stat(m.source.c_str(), &st);
    if (rc < 0) throw Error("stat " + m.source + ": " + go_errno_text(errno), errno);
    auto target =
        make_target(rootfd, m.destination, S_ISDIR(st.st_mode) ? Leaf::kDir : Leaf::kFile);
    if (source_fd < 0) {
      do_mount(m.source, target, nullptr, MS_BIND | (opts.recursive ? MS_REC : 0), "");
    } else if (::move_mount(source_fd, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) < 0) {
      throw Error("move mount " + m.source + ":" + m.destination + ": " + go_errno_text(errno),
                  errno);
    }
    unsigned long extra = opts.flags & ~(MS_REMOUNT);
    if (extra) remount_bind(target, extra);
    for (auto p : opts.propagation) do_mount("", target, nullptr, p, "");
    set_recursive_attrs(target, opts);
    return;
  }
  if (m.type == "proc" || m.type == "sysfs") {
    // Never through a symlink (or onto a file): a link swapped in could aim the kernel's
    // view somewhere else. runc's check and words.
    UniqueFd dest(openat2_in_root(rootfd, m.destination, O_PATH | O_NOFOLLOW));
    struct stat st;
    if (dest && ::fstat(dest.get(), &st) == 0 && !S_ISDIR(st.st_mode))
      throw Error("filesystem \"" + m.type + "\" must be mounted on ordinary directory");
  }
  auto target = make_target(rootfd, m.destination, Leaf::kDir);
  const char* type = m.type.empty() ? nullptr : m.type.c_str();
  std::string source = m.source.empty() ? m.type : m.source;
  // A read-only /dev is filled first (devices, /dev/pts, links) and made read-only last, in
  // finish_rootfs, as runc does.
  unsigned long flags = m.destination == "/dev" ? opts.flags & ~MS_RDONLY : opts.flags;
  if (::mount(source.c_str(), target.c_str(), type, flags,
              opts.data.empty() ? nullptr : opts.data.c_str()) < 0) {
    int err = errno;
    // sysfs cannot be mounted without a network namespace of one's own (or from a user
    // namespace that does not own it); runc falls back to binding the host's /sys.
    if (m.type != "sysfs" || (err != EPERM && err != EBUSY))
      throw Error("mount " + source + ":" + m.destination + ": " + go_errno_text(err), err);
    do_mount("/sys", target, nullptr, MS_BIND | MS_REC, "");
    remount_bind(target, opts.flags);
  }
  for (auto p : opts.propagation) do_mount("", target, nullptr, p, "");
  set_recursive_attrs(target, opts);
}

struct DefaultDevice {
  const char* path;
  unsigned major, minor;
};
const DefaultDevice kDefaultDevices[] = {{"/dev/null", 1, 3},    {"/dev/zero", 1, 5},
                                         {"/dev/full", 1, 7},    {"/dev/random", 1, 8},
                                         {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0}};

void create_device(const RootfsContext& ctx, int rootfd, const oci::Device& d) {
  auto target = make_target(rootfd, d.path.substr(0, d.path.rfind('/')), Leaf::kDir) +
                d.path.substr(d.path.rfind('/'));
  mode_t type = d.type == "b" ? S_IFBLK : d.type == "p" ? S_IFIFO : S_IFCHR;
  mode_t mode = d.file_mode.value_or(0666) & 07777;
  ::unlink(target.c_str());
  if (ctx.new_user_ns ||
      ::mknod(target.c_str(), type | mode,
              makedev(static_cast<unsigned>(d.major), static_cast<unsigned>(d.minor))) < 0) {
    if (!ctx.new_user_ns && errno != EPERM) throw_errno("mknod " + d.path);
    // Without CAP_MKNOD (user namespaces) the host's node is bound onto an empty file.
    UniqueFd f(::open(target.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0644));
    if (!f) throw_errno("create " + target);
    do_mount(d.path, target, nullptr, MS_BIND, "");
    return;
  }
  if (::chmod(target.c_str(), mode) < 0) throw_errno("chmod " + target);
  if ((d.uid || d.gid) && ::chown(target.c_str(), d.uid.value_or(0), d.gid.value_or(0)) < 0)
    throw_errno("chown " + target);
}

void create_dev_links(const std::string& rootfs, bool has_devpts) {
  struct Link {
    const char* target;
    const char* path;
  };
  const Link links[] = {{"/proc/self/fd", "/dev/fd"},
                        {"/proc/self/fd/0", "/dev/stdin"},
                        {"/proc/self/fd/1", "/dev/stdout"},
                        {"/proc/self/fd/2", "/dev/stderr"}};
  for (auto& l : links) {
    auto p = rootfs + l.path;
    if (::symlink(l.target, p.c_str()) < 0 && errno != EEXIST) throw_errno("symlink " + p);
  }
  if (has_devpts) {
    auto p = rootfs + "/dev/ptmx";
    ::unlink(p.c_str());
    if (::symlink("pts/ptmx", p.c_str()) < 0) throw_errno("symlink " + p);
  }
}

// mountinfo writes space, tab, newline and backslash in paths as \ooo.
std::string unescape_mountinfo(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); i++) {
    if (field[i] == '\\' && i + 3 < field.size()) {
      auto oct = field.substr(i + 1, 3);
      if (oct.find_first_not_of("01234567") == std::string::npos) {
        out.push_back(static_cast<char>(std::stoi(oct, nullptr, 8)));
        i += 3;
        continue;
      }
    }
    out.push_back(field[i]);
  }
  return out;
}

// Without pivot_root the host's mounts stay in the container's mount namespace, out of
// sight of the chroot but not of the kernel: a fully visible proc or sysfs there lets a
// user namespace made inside mount a new one. Each is detached (covered with a tmpfs where
// detaching is refused), as runc does before its chroot.
void hide_host_proc_and_sysfs(const std::string& rootfs) {
  for (auto& line : split(read_file("/proc/self/mountinfo"), '\n')) {
    auto sep = line.find(" - ");
    if (sep == std::string::npos) continue;
    auto pre = split(line.substr(0, sep), ' ');
    auto post = split(line.substr(sep + 3), ' ');
    if (pre.size() < 5 || post.empty()) continue;
    if ((post[0] != "proc" && post[0] != "sysfs") || pre[3] != "/") continue;
    auto point = unescape_mountinfo(pre[4]);
    if (point == rootfs || point.rfind(rootfs + "/", 0) == 0) continue;
    if (::umount2(point.c_str(), MNT_DETACH) == 0) continue;
    // Already gone with a detached parent.
    if (errno == ENOENT) continue;
    if (errno != EINVAL && errno != EPERM) throw_errno("unmount " + point);
    do_mount("tmpfs", point, "tmpfs", 0, "");
  }
}

bool mounts_dev(const oci::Spec& spec, const char* dest, const char* type = nullptr) {
  for (auto& m : spec.mounts) {
    if (m.destination != dest) continue;
    if (!type || m.type == type) return true;
  }
  return false;
}

}  // namespace

bool is_bind_mount(const oci::Mount& m) {
  return m.type == "bind" || parse_mount_options(m.options).bind;
}

std::vector<UniqueFd> open_bind_sources(const oci::Spec& spec) {
  std::vector<UniqueFd> fds(spec.mounts.size());
  for (size_t i = 0; i < spec.mounts.size(); i++) {
    const auto& m = spec.mounts[i];
    if (!is_bind_mount(m)) continue;
    unsigned flags = OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC;
    if (parse_mount_options(m.options).recursive) flags |= AT_RECURSIVE;
    fds[i].reset(::open_tree(AT_FDCWD, m.source.c_str(), flags));
    if (!fds[i])
      throw Error("error mounting \"" + m.source + "\" to rootfs at \"" + m.destination +
                      "\": stat " + m.source + ": " + go_errno_text(errno),
                  errno);
  }
  return fds;
}

void prepare_rootfs(const RootfsContext& ctx) {
  const auto& spec = *ctx.spec;
  // Nothing mounted from here on may propagate back to the host.
  do_mount("", "/", nullptr, MS_SLAVE | MS_REC, "");
  do_mount(ctx.rootfs, ctx.rootfs, nullptr, MS_BIND | MS_REC, "");
  UniqueFd rootfd(::open(ctx.rootfs.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!rootfd) throw_errno("open rootfs " + ctx.rootfs);
  for (size_t i = 0; i < spec.mounts.size(); i++) {
    const auto& m = spec.mounts[i];
    int source_fd = ctx.mount_sources ? (*ctx.mount_sources)[i].get() : -1;
    try {
      mount_entry(ctx, rootfd.get(), m, source_fd);
    } catch (const std::exception& e) {
      // runc's words, which callers show as they are.
      rethrow_with_context(e, "error mounting \"" + (m.source.empty() ? m.type : m.source) +
                                  "\" to rootfs at \"" + m.destination + "\"");
    }
  }
  bool own_dev = false;
  for (auto& m : spec.mounts) own_dev |= m.destination == "/dev" && !is_bind_mount(m);
  if (own_dev) {
    for (auto& d : kDefaultDevices) {
      oci::Device dev;
      dev.type = "c";
      dev.path = d.path;
      dev.major = d.major;
      dev.minor = d.minor;
      create_device(ctx, rootfd.get(), dev);
    }
    create_dev_links(ctx.rootfs, mounts_dev(spec, "/dev/pts", "devpts"));
  }
  if (spec.linux) {
    for (auto& d : spec.linux->devices) {
      try {
        create_device(ctx, rootfd.get(), d);
      } catch (const std::exception& e) {
        rethrow_with_context(e, "linux.devices[" + d.path + "]");
      }
    }
  }
}

void enter_rootfs(const RootfsContext& ctx) {
  if (ctx.no_pivot) {
    hide_host_proc_and_sysfs(ctx.rootfs);
    if (::chdir(ctx.rootfs.c_str()) < 0) throw_errno("chdir " + ctx.rootfs);
    do_mount(ctx.rootfs, "/", nullptr, MS_MOVE, "");
    if (::chroot(".") < 0) throw_errno("chroot " + ctx.rootfs);
    if (::chdir("/") < 0) throw_errno("chdir /");
    return;
  }
  UniqueFd oldroot(::open("/", O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  UniqueFd newroot(::open(ctx.rootfs.c_str(), O_DIRECTORY | O_RDONLY | O_CLOEXEC));
  if (!oldroot || !newroot) throw_errno("open root directories");
  if (::fchdir(newroot.get()) < 0) throw_errno("chdir " + ctx.rootfs);
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it then
  // leaves the new root alone, without needing a directory to put the old one in.
  if (::syscall(SYS_pivot_root, ".", ".") < 0) throw_errno("pivot_root " + ctx.rootfs);
  if (::fchdir(oldroot.get()) < 0) throw_errno("chdir old root");
  do_mount("", ".", nullptr, MS_SLAVE | MS_REC, "");
  if (::umount2(".", MNT_DETACH) < 0) throw_errno("unmount old root");
  if (::chdir("/") < 0) throw_errno("chdir /");
}

void finish_rootfs(const RootfsContext& ctx) {
  const auto& spec = *ctx.spec;
  for (auto& m : spec.mounts) {
    if (m.destination != "/dev" || m.type == "bind") continue;
    auto opts = parse_mount_options(m.options);
    if (!opts.bind && (opts.flags & MS_RDONLY)) remount_bind("/dev", opts.flags);
  }
  if (spec.linux) {
    for (auto& p : spec.linux->masked_paths) {
      if (!path_exists(p)) continue;
      if (is_dir(p))
        do_mount("tmpfs", p, "tmpfs", MS_RDONLY, "");
      else
        do_mount("/dev/null", p, nullptr, MS_BIND, "");
    }
    for (auto& p : spec.linux->readonly_paths) {
      if (!path_exists(p)) continue;
      do_mount(p, p, nullptr, MS_BIND | MS_REC, "");
      remount_bind(p, MS_RDONLY | MS_REC);
    }
  }
  if (spec.root.readonly) remount_bind("/", MS_RDONLY);
  if (spec.linux && !spec.linux->rootfs_propagation.empty()) {
    auto opts = parse_mount_options({spec.linux->rootfs_propagation});
    for (auto p : opts.propagation) do_mount("", "/", nullptr, p, "");
  }
}

void apply_sysctl(const oci::Spec& spec) {
  if (!spec.linux) return;
  for (auto& [key, value] : spec.linux->sysctl) {
    std::string path = "/proc/sys/" + key;
    for (size_t i = 10; i < path.size(); i++)
      if (path[i] == '.') path[i] = '/';
    if (key.find("..") != std::string::npos) throw Error("invalid sysctl name \"" + key + "\"");
    try {
      write_file(path, value, O_TRUNC);
    } catch (const std::exception& e) {
      rethrow_with_context(e, "linux.sysctl[" + key + "]");
    }
  }
}

}  // namespace berth::runtime
