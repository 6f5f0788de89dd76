// The v2 device filter, attached to a real cgroup2 directory (this machine's hybrid
// /sys/fs/cgroup/unified, or /sys/fs/cgroup on a v2 host) and checked from a process in it.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

std::string cgroup2_root() {
  for (auto* p : {"/sys/fs/cgroup/unified", "/sys/fs/cgroup"}) {
    struct statfs st;
    if (statfs(p, &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC) return p;
  }
  return "";
}

oci::DeviceRule rule(bool allow, const char* type, int64_t major, int64_t minor,
                     const char* access) {
  oci::DeviceRule r;
  r.allow = allow;
  r.type = type;
  if (major >= 0) r.major = major;
  if (minor >= 0) r.minor = minor;
  r.access = access;
  return r;
}

TEST(DeviceFilter, DeniesWhatTheRulesDoNotAllow) {
  auto root = cgroup2_root();
  if (getuid() != 0 || root.empty()) GTEST_SKIP() << "needs root and a cgroup2 mount";
  std::string dir = root + "/berth-devtest-" + std::to_string(getpid());
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  struct Cleanup {
    std::string d;
    ~Cleanup() { rmdir(d.c_str()); }
  } cleanup{dir};
  // Docker's shape: deny everything, then allow a few; /dev/null only for reading.
  attach_device_filter(dir, {rule(false, "a", -1, -1, "rwm"), rule(true, "c", 1, 5, "rwm"),
                             rule(true, "c", 1, 3, "r"), rule(true, "c", 1, -1, "m")});
  pid_t pid = fork();
  if (pid == 0) {
    int fd = open((dir + "/cgroup.procs").c_str(), O_WRONLY);
    if (fd < 0 || write(fd, "0", 1) != 1) _exit(10);
    close(fd);
    int code = 0;
    if (open("/dev/zero", O_RDWR) < 0) code |= 1;                       // allowed rwm
    if (open("/dev/null", O_RDONLY) < 0) code |= 2;                     // allowed r
    if (open("/dev/null", O_WRONLY) >= 0 || errno != EPERM) code |= 4;  // w not allowed
    if (open("/dev/full", O_RDONLY) >= 0 || errno != EPERM) code |= 8;  // not listed
    _exit(code);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "bits: 1 zero denied, 2 null read denied, "
                                       "4 null write allowed, 8 full allowed, 10 join failed";
}

}  // namespace
}  // namespace berth::runtime
