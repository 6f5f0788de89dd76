#include "network/netns.h"

#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"

namespace berth::network {
namespace {

constexpr char kThreadNetns[] = "/proc/thread-self/ns/net";

std::string parent_of(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// A namespace file bound in a shared mount would propagate to every peer mount namespace,
// each copy keeping the namespace alive after remove_netns; a private bind mount of the
// directory onto itself keeps them here.
void make_private_mount(const std::string& dir) {
  // Two threads finding the directory not yet a mount point would otherwise stack two binds.
  static std::mutex mu;
  std::lock_guard lock(mu);
  if (::mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) == 0) return;
  if (errno != EINVAL) throw_errno("make " + dir + " a private mount");
  // EINVAL: not a mount point yet.
  if (::mount(dir.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    throw_errno("bind mount " + dir + " onto itself");
  }
  if (::mount(nullptr, dir.c_str(), nullptr, MS_PRIVATE, nullptr) < 0) {
    throw_errno("make " + dir + " a private mount");
  }
}

void bring_lo_up() {
  UniqueFd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) throw_errno("socket for lo");
  ifreq ifr{};
  std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
  if (::ioctl(sock.get(), SIOCGIFFLAGS, &ifr) < 0) throw_errno("get flags of lo");
  ifr.ifr_flags |= IFF_UP;
  if (::ioctl(sock.get(), SIOCSIFFLAGS, &ifr) < 0) throw_errno("set lo up");
}

// berth's networks are IPv4-only. As Docker does for those, the container's interfaces get no
// IPv6: no link-local address, router solicitation or duplicate address detection for the
// kernel to run when they come up and go. lo, made with the namespace, keeps ::1.
void disable_ipv6_on_new_links() {
  constexpr char kKnob[] = "/proc/sys/net/ipv6/conf/default/disable_ipv6";
  UniqueFd knob(::open(kKnob, O_WRONLY | O_CLOEXEC));
  if (!knob) {
    if (errno == ENOENT) return;  // a kernel without IPv6
    throw_errno(std::string("open ") + kKnob);
  }
  if (::write(knob.get(), "1", 1) != 1) throw_errno(std::string("write ") + kKnob);
}

// Unlinks the namespace file unless the namespace got bound to it.
class FileRemover {
 public:
  explicit FileRemover(std::string path) : path_(std::move(path)) {}
  ~FileRemover() {
    if (!path_.empty()) ::unlink(path_.c_str());
  }
  FileRemover(const FileRemover&) = delete;
  FileRemover& operator=(const FileRemover&) = delete;
  void dismiss() { path_.clear(); }

 private:
  std::string path_;
};

}  // namespace

NetnsGuard::NetnsGuard() : saved_(::open(kThreadNetns, O_RDONLY | O_CLOEXEC)) {
  if (!saved_) throw_errno(std::string("open ") + kThreadNetns);
}

NetnsGuard::~NetnsGuard() {
  if (::setns(saved_.get(), CLONE_NEWNET) == 0) return;
  // Going on would open the daemon's later sockets in a container's namespace.
  log::error(std::string("cannot return to the original network namespace: ") +
             std::strerror(errno));
  std::abort();
}

void create_netns(const std::string& path) {
  auto dir = parent_of(path);
  mkdir_p(dir);
  make_private_mount(dir);

  UniqueFd file(::open(path.c_str(), O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0));
  if (!file) throw_errno("create network namespace file " + path);
  file.reset();
  FileRemover remover(path);

  NetnsGuard guard;
  if (::unshare(CLONE_NEWNET) < 0) throw_errno("unshare network namespace for " + path);
  try {
    bring_lo_up();
    disable_ipv6_on_new_links();
  } catch (const std::exception& e) {
    rethrow_with_context(e, "new network namespace " + path);
  }
  if (::mount(kThreadNetns, path.c_str(), nullptr, MS_BIND, nullptr) < 0) {
    throw_errno("bind network namespace to " + path);
  }
  remover.dismiss();
}

void remove_netns(const std::string& path) {
  // EINVAL: not a mount point, a namespace file whose bind mount is already gone.
  if (::umount2(path.c_str(), MNT_DETACH) < 0 && errno != ENOENT && errno != EINVAL) {
    throw_errno("unmount network namespace " + path);
  }
  if (::unlink(path.c_str()) < 0 && errno != ENOENT) {
    throw_errno("remove network namespace file " + path);
  }
}

UniqueFd open_netns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) throw_errno("open network namespace " + path);
  return fd;
}

}  // namespace berth::network
