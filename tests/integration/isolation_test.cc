// Isolation checked from inside the container: capabilities, seccomp, read-only and masked
// paths, user namespaces, joining namespaces by path, devices.
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include "harness.h"

namespace berth::test {
namespace {

TEST(Isolation, DroppedCapabilityDeniesItsOperation) {
  Bundle b;
  // The default spec keeps only AUDIT_WRITE, KILL and NET_BIND_SERVICE: no CAP_CHOWN.
  auto denied = b.run(unique_name("t"), {"sh", "-c", "touch /tmp/f && chown 65534 /tmp/f"});
  EXPECT_NE(denied.status, 0);
  EXPECT_NE(denied.err.find("Operation not permitted"), std::string::npos) << denied.err;
  for (auto set : {"bounding", "effective", "permitted"})
    b.config()["process"]["capabilities"][set].push_back("CAP_CHOWN");
  auto allowed = b.run(unique_name("t"), {"sh", "-c", "touch /tmp/f && chown 65534 /tmp/f"});
  EXPECT_EQ(allowed.status, 0) << allowed.err;
  auto status = b.run(unique_name("t"), {"grep", "CapBnd", "/proc/self/status"});
  // CAP_CHOWN (bit 0) + KILL (5) + NET_BIND_SERVICE (10) + AUDIT_WRITE (29)
  EXPECT_NE(status.out.find("0000000020000421"), std::string::npos) << status.out;
}

TEST(Isolation, UnknownCapabilityIsAnError) {
  Bundle b;
  b.config()["process"]["capabilities"]["bounding"].push_back("CAP_NOT_A_CAP");
  std::string id = unique_name("t");
  auto r = b.run(id, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("CAP_NOT_A_CAP"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
}

TEST(Isolation, SeccompDeniesAListedSyscall) {
  Bundle b;
  b.config()["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86"}},
      {"syscalls",
       {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
  auto r = b.run(unique_name("t"), {"sh", "-c", "echo ok; mkdir /tmp/x"});
  EXPECT_EQ(r.out, "ok\n");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
}

// A syscall newer than everything the profile names answers ENOSYS, as with runc, so that
// glibc falls back (clone3 -> clone); older ones not in the profile get the default action.
TEST(Isolation, SeccompSyscallsNewerThanTheProfileAreENOSYS) {
  Bundle b;
  std::filesystem::copy_file(BERTH_SYSCALL_PROBE, b.rootfs() + "/bin/probe");
  nlohmann::json allowed = {
      "execve", "brk", "arch_prctl", "set_tid_address", "set_robust_list", "rseq", "prlimit64",
      "readlinkat", "mprotect", "uname", "newfstatat", "fstat", "getrandom", "ioctl", "write",
      "exit_group", "mmap", "munmap", "getpid", "clone3",
      // The sanitizer build's runtime calls it between the filter and the exec.
      "sigaltstack"};
  b.config()["process"]["noNewPrivileges"] = true;
  b.config()["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ERRNO"},
      {"architectures", {"SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"}},
      {"syscalls", {{{"names", allowed}, {"action", "SCMP_ACT_ALLOW"}}}}};
  // 39 getpid (allowed), 95 umask (older, not listed), 435 clone3 (the highest named),
  // 450 and 999 (above it).
  auto r = b.run(unique_name("t"), {"probe", "39", "95", "450", "999"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "39 ok\n95 EPERM\n450 ENOSYS\n999 ENOSYS\n");
}

// The caller's fds are closed before the filter is loaded: a profile that denies close_range
// (as older ones do) must not let fds 10 and 251 of the caller into the container.
TEST(Isolation, CallerFdsDoNotLeakWhenSeccompDeniesCloseRange) {
  Bundle b;
  b.config()["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls", {{{"names", {"close_range"}}, {"action", "SCMP_ACT_ERRNO"}}}}};
  b.set_args({"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"});
  // bash: dash takes single-digit fds only.
  std::string id = unique_name("t");
  auto r = run_program({"bash", "-c",
                        std::string(BERTH_RUNTIME_BIN) + " --root " + b.state_root() +
                            " run --bundle " + b.dir() + " " + id + " 10</dev/null 251</dev/null"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "0 1 2 3 ");
  // exec's process the same.
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  auto e = run_program({"bash", "-c",
                        std::string(BERTH_RUNTIME_BIN) + " --root " + b.state_root() + " exec " +
                            id + " ls /proc/self/fd 10</dev/null 251</dev/null | tr '\\n' ' '"});
  EXPECT_EQ(e.out, "0 1 2 3 ") << e.err;
}

TEST(Isolation, ReadonlyRootAndPaths) {
  Bundle b;
  b.config()["root"]["readonly"] = true;
  auto r = b.run(unique_name("t"), {"sh", "-c",
                                    "touch /x; echo 1 > /proc/sys/kernel/domainname; "
                                    "wc -c < /proc/keys; ls /sys/firmware | wc -l"});
  EXPECT_NE(r.err.find("touch: /x: Read-only file system"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/proc/sys/kernel/domainname: Read-only file system"), std::string::npos)
      << r.err;
  // /proc/keys is masked by /dev/null, /sys/firmware by an empty tmpfs.
  EXPECT_EQ(r.out, "0\n0\n");
}

// A read-only /dev is populated (nodes, /dev/pts, links) before it becomes read-only.
TEST(Isolation, ReadonlyDevIsFilledThenMadeReadonly) {
  Bundle b;
  for (auto& m : b.config()["mounts"])
    if (m["destination"] == "/dev") m["options"].push_back("ro");
  auto r = b.run(unique_name("t"), {"sh", "-c",
                                    "ls /dev/pts; readlink /dev/fd; echo x > /dev/null && echo "
                                    "null-ok; touch /dev/x"});
  EXPECT_EQ(r.out, "ptmx\n/proc/self/fd\nnull-ok\n");
  EXPECT_NE(r.err.find("touch: /dev/x: Read-only file system"), std::string::npos) << r.err;
}

// A user namespace mapping root to host uid/gid 100000 (65536 ids), without the cgroup mount
// that the mapped root may not make.
void map_root_to_100000(Bundle& b) {
  auto& linux = b.config()["linux"];
  linux["namespaces"].push_back({{"type", "user"}});
  linux["uidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  linux["gidMappings"] = {{{"containerID", 0}, {"hostID", 100000}, {"size", 65536}}};
  auto& mounts = b.config()["mounts"];
  for (auto it = mounts.begin(); it != mounts.end(); ++it)
    if ((*it)["destination"] == "/sys/fs/cgroup") {
      mounts.erase(it);
      break;
    }
}

TEST(Isolation, UserNamespaceMapsIds) {
  Bundle b;
  map_root_to_100000(b);
  auto r = b.run(unique_name("t"), {"sh", "-c", "cat /proc/self/uid_map; id -u; ls -l /dev/null"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("100000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\n0\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/dev/null"), std::string::npos) << r.out;
}

// A bind source the mapped root cannot reach (under a 0700 directory of the host's root) is
// opened by the runtime before the container's process enters its user namespace.
TEST(Isolation, BindSourceUnreachableFromTheUserNamespace) {
  TempDir hidden{"userns-src"};  // 0700, root's
  std::filesystem::create_directories(hidden / "dir");
  std::ofstream(hidden / "dir/file") << "secret-ok\n";
  std::ofstream(hidden / "single") << "file-ok\n";
  Bundle b;
  // The rootfs is the host root's: the mapped root could not make the mount points.
  std::filesystem::create_directory(b.rootfs() + "/data");
  std::ofstream(b.rootfs() + "/single");
  map_root_to_100000(b);
  auto& mounts = b.config()["mounts"];
  mounts.push_back({{"destination", "/data"},
                    {"type", "bind"},
                    {"source", hidden / "dir"},
                    {"options", {"rbind", "ro"}}});
  mounts.push_back({{"destination", "/single"},
                    {"type", "bind"},
                    {"source", hidden / "single"},
                    {"options", {"bind"}}});
  auto r = b.run(unique_name("t"), {"sh", "-c", "cat /data/file /single; touch /data/x"});
  EXPECT_EQ(r.out, "secret-ok\nfile-ok\n") << r.err;
  EXPECT_NE(r.err.find("touch: /data/x: Read-only file system"), std::string::npos) << r.err;
}

TEST(Isolation, JoinsANamespaceByPath) {
  Bundle a;
  std::string id = unique_name("t");
  a.set_args({"sleep", "1000"});
  ASSERT_EQ(a.runtime({"run", "-d", "--bundle", a.dir(), id}).status, 0);
  int pid = nlohmann::json::parse(a.runtime({"state", id}).out)["pid"];
  auto inside_a = a.runtime({"exec", id, "readlink", "/proc/self/ns/net"}).out;

  Bundle b;
  for (auto& ns : b.config()["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = "/proc/" + std::to_string(pid) + "/ns/net";
  auto r = b.run(unique_name("t"), {"readlink", "/proc/self/ns/net"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, inside_a);

  for (auto& ns : b.config()["linux"]["namespaces"])
    if (ns["type"] == "network") ns["path"] = "/proc/999999999/ns/net";
  std::string bad = unique_name("t");
  auto e = b.run(bad, {"true"});
  EXPECT_NE(e.status, 0);
  EXPECT_NE(e.err.find("/proc/999999999/ns/net"), std::string::npos) << e.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + bad));
}

TEST(Isolation, NewNetworkNamespaceHasLoopbackUp) {
  Bundle b;
  // The default spec asks for a new network namespace with no path, as --network none does.
  // ping needs a raw socket.
  for (auto set : {"bounding", "effective", "permitted"})
    b.config()["process"]["capabilities"][set].push_back("CAP_NET_RAW");
  auto r =
      b.run(unique_name("t"),
            {"sh", "-c", "cat /sys/class/net/lo/flags && ping -c 1 -W 2 127.0.0.1 >/dev/null"});
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  // IFF_LOOPBACK | IFF_UP
  EXPECT_EQ(r.out, "0x9\n");
}

TEST(Isolation, DevicesAndDevLinks) {
  Bundle b;
  b.config()["linux"]["devices"] = {
      {{"type", "c"}, {"path", "/dev/fuse"}, {"major", 10}, {"minor", 229}, {"fileMode", 0600}}};
  auto r = b.run(unique_name("t"),
                 {"sh", "-c",
                  "ls -l /dev/null /dev/zero /dev/urandom /dev/fuse | cut -c1-10; "
                  "readlink /dev/fd; readlink /dev/ptmx; echo x > /dev/null && echo wrote"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(r.out.find("crw-------"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("crw-rw-rw-"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("/proc/self/fd\npts/ptmx\nwrote"), std::string::npos) << r.out;
}

// A v1 devices cgroup that denies by default, as the parent of the container's: only the
// rules after the config's last allow-all or deny-all take effect, and writing an earlier
// allow-all there is refused (EPERM), so it must not be written at all.
class DenyingDevicesParent {
 public:
  DenyingDevicesParent() {
    std::filesystem::create_directory(dir_);
    write(dir_ + "/devices.deny", "a");
    for (auto rule : {"c 1:3 rwm", "c 1:5 rwm", "c 1:7 rwm", "c 1:8 rwm", "c 1:9 rwm", "c 1:11 rwm",
                      "c 5:0 rwm", "c 5:1 rwm", "c 5:2 rwm", "c 136:* rwm", "c 10:200 rwm",
                      "c *:* m", "b *:* m"})
      write(dir_ + "/devices.allow", rule);
  }
  // The container's cgroupsPath made the parent in every hierarchy; delete removes only
  // the container's own level.
  ~DenyingDevicesParent() {
    std::error_code ec;
    for (auto& h : std::filesystem::directory_iterator("/sys/fs/cgroup", ec))
      ::rmdir((h.path() / name_).c_str());
  }
  DenyingDevicesParent(const DenyingDevicesParent&) = delete;
  DenyingDevicesParent& operator=(const DenyingDevicesParent&) = delete;
  std::string name() const { return name_; }

 private:
  static void write(const std::string& path, const std::string& value) {
    std::ofstream f(path);
    f << value;
    f.flush();
    if (!f) throw std::runtime_error("write " + value + " to " + path);
  }
  std::string name_ = unique_name("devparent");
  std::string dir_ = "/sys/fs/cgroup/devices/" + name_;
};

TEST(Isolation, DeviceRulesBeforeTheLastDenyAllAreNotWritten) {
  if (!cgroup_v1_has("devices")) GTEST_SKIP() << "v1 devices controller only";
  DenyingDevicesParent parent;
  Bundle b;
  b.config()["linux"]["cgroupsPath"] = "/" + parent.name() + "/" + unique_name("c");
  b.config()["linux"]["resources"]["devices"] = {
      {{"allow", true}, {"access", "rwm"}},
      {{"allow", false}, {"access", "rwm"}},
      {{"allow", true}, {"type", "c"}, {"major", 1}, {"minor", 3}, {"access", "rwm"}}};
  // Listed, and allowed by the parent, but not by the container's own rules.
  b.config()["linux"]["devices"] = {
      {{"type", "c"}, {"path", "/dev/kmsg"}, {"major", 1}, {"minor", 11}, {"fileMode", 0666}}};
  auto r = b.run(unique_name("t"),
                 {"sh", "-c", "echo x > /dev/null && echo null; echo x > /dev/kmsg || echo kmsg"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "null\nkmsg\n");
  EXPECT_NE(r.err.find("Operation not permitted"), std::string::npos) << r.err;
}

// /dev/console is the terminal's pty bound there, never the host's console device: runc
// allows no 5:1, with a terminal or without.
TEST(Isolation, HostConsoleDeviceIsDenied) {
  Bundle b;
  for (auto& [set, caps] : b.config()["process"]["capabilities"].items())
    caps.push_back("CAP_MKNOD");
  auto r = b.run(unique_name("t"), {"sh", "-c", "mknod /tmp/console c 5 1 && : </tmp/console"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("can't open /tmp/console: Operation not permitted"), std::string::npos)
      << r.err;
}

// rro reaches the mounts below a bind too, and an unknown option is refused, not passed to
// the kernel as data that a bind mount ignores.
TEST(Isolation, RecursiveReadonlyCoversSubmounts) {
  TempDir src{"rro"};
  std::filesystem::create_directories(src / "sub");
  ASSERT_EQ(::mount("tmpfs", (src / "sub").c_str(), "tmpfs", 0, nullptr), 0);
  struct Unmount {
    std::string path;
    ~Unmount() { ::umount2(path.c_str(), MNT_DETACH); }
  } unmount{src / "sub"};
  Bundle b;
  auto bind = [&](const char* dest, std::vector<std::string> options) {
    b.config()["mounts"].push_back(
        {{"destination", dest}, {"type", "bind"}, {"source", src.path()}, {"options", options}});
  };
  bind("/rro", {"rbind", "rro"});
  bind("/ro", {"rbind", "ro"});
  auto r = b.run(unique_name("t"),
                 {"sh", "-c",
                  "touch /rro/x /rro/sub/x 2>&1 | wc -l; touch /ro/sub/y && echo ro-sub-writable"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "2\nro-sub-writable\n");

  Bundle bad;
  bad.config()["mounts"].push_back({{"destination", "/x"},
                                    {"type", "bind"},
                                    {"source", src.path()},
                                    {"options", {"rbind", "rrro"}}});
  auto e = bad.run(unique_name("t"), {"true"});
  EXPECT_NE(e.status, 0);
  EXPECT_NE(e.err.find("rrro"), std::string::npos) << e.err;
}

TEST(Isolation, SysctlAndRlimits) {
  Bundle b;
  b.config()["linux"]["sysctl"] = {{"net.ipv4.ip_forward", "1"}, {"kernel.msgmax", "4096"}};
  b.config()["process"]["rlimits"] = {{{"type", "RLIMIT_NOFILE"}, {"hard", 200}, {"soft", 100}}};
  auto r = b.run(unique_name("t"), {"sh", "-c",
                                    "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/msgmax; "
                                    "ulimit -n"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "1\n4096\n100\n");
}

}  // namespace
}  // namespace berth::test
