// Hooks in order with the state on stdin; the terminal handed over the console socket.
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "base/fd_passing.h"
#include "harness.h"
#include "runtime/internal.h"

namespace berth::test {
namespace {

nlohmann::json hook(const std::string& log, const std::string& name) {
  return {{"path", "/bin/sh"},
          {"args", {"sh", "-c", "echo " + name + " >> " + log + "; cat > " + log + "." + name}}};
}

TEST(Hooks, AllSixRunInOrderWithTheState) {
  Bundle b;
  std::string id = unique_name("t");
  std::string logdir = b.dir() + "/hooks";
  std::filesystem::create_directories(logdir);
  // The container sees the same directory at the same path, so that startContainer (run
  // inside it) writes to the same log.
  std::filesystem::create_directories(b.rootfs() + logdir);
  b.config()["mounts"].push_back(
      {{"destination", logdir}, {"type", "bind"}, {"source", logdir}, {"options", {"rbind"}}});
  std::string log = logdir + "/log";
  auto& h = b.config()["hooks"];
  for (auto [key, name] : {std::pair{"prestart", "prestart"},
                           {"createRuntime", "createRuntime"},
                           {"createContainer", "createContainer"},
                           {"startContainer", "startContainer"},
                           {"poststart", "poststart"},
                           {"poststop", "poststop"}})
    h[key] = {hook(log, name)};
  b.set_args({"true"});
  ASSERT_EQ(b.runtime({"create", "--bundle", b.dir(), id}).status, 0);
  ASSERT_EQ(b.runtime({"start", id}).status, 0);
  for (int i = 0;
       i < 200 && nlohmann::json::parse(b.runtime({"state", id}).out)["status"] != "stopped"; i++)
    usleep(10000);
  ASSERT_EQ(b.runtime({"delete", id}).status, 0);
  EXPECT_EQ(slurp(log),
            "prestart\ncreateRuntime\ncreateContainer\nstartContainer\npoststart\npoststop\n");
  auto st = nlohmann::json::parse(slurp(log + ".createRuntime"));
  EXPECT_EQ(st["id"], id);
  EXPECT_EQ(st["status"], "creating");
  EXPECT_GT(st["pid"].get<int>(), 0);
  EXPECT_EQ(nlohmann::json::parse(slurp(log + ".poststop"))["status"], "stopped");
}

// runc runs createContainer hooks from the container's rootfs (before pivot_root), so that
// relative paths in them mean the container's files, and the hooks it runs itself from the
// bundle.
TEST(Hooks, HooksRunFromTheRootfsOrTheBundleAsWithRunc) {
  Bundle b;
  auto pwd = [&](const std::string& kind) {
    return nlohmann::json::array(
        {{{"path", "/bin/sh"}, {"args", {"sh", "-c", "pwd > " + b.dir() + "/cwd." + kind}}}});
  };
  for (auto kind : {"prestart", "createRuntime", "poststart", "poststop"})
    b.config()["hooks"][kind] = pwd(kind);
  b.config()["hooks"]["createContainer"] = {
      {{"path", "/bin/sh"},
       {"args", {"sh", "-c", "pwd > " + b.dir() + "/cwd.createContainer; test -x bin/busybox"}}}};
  auto r = b.run(unique_name("t"), {"true"});
  ASSERT_EQ(r.status, 0) << r.err;
  std::string bundle = std::filesystem::canonical(b.dir()).string();
  EXPECT_EQ(slurp(b.dir() + "/cwd.createContainer"), bundle + "/rootfs\n");
  for (auto kind : {"prestart", "createRuntime", "poststart", "poststop"})
    EXPECT_EQ(slurp(b.dir() + "/cwd." + kind), bundle + "\n") << kind;
}

// startContainer hooks run inside the container's confinement, its seccomp filter included,
// also when no_new_privs lets the filter be loaded last.
TEST(Hooks, StartContainerHooksRunUnderTheSeccompFilter) {
  Bundle b;
  b.config()["process"]["noNewPrivileges"] = true;
  b.config()["linux"]["seccomp"] = {
      {"defaultAction", "SCMP_ACT_ALLOW"},
      {"syscalls",
       {{{"names", {"mkdir", "mkdirat"}}, {"action", "SCMP_ACT_ERRNO"}, {"errnoRet", 1}}}}};
  b.config()["hooks"]["startContainer"] = {
      {{"path", "/bin/sh"},
       {"args", {"sh", "-c", "mkdir /tmp/by-hook; echo ran > /tmp/hook-ran"}}}};
  auto r = b.run(unique_name("t"), {"ls", "/tmp"});
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_EQ(r.out, "hook-ran\n");
}

TEST(Hooks, FailingOrSlowPrestartHookFailsCreate) {
  Bundle b;
  b.config()["hooks"]["prestart"] = {{{"path", "/bin/false"}}};
  std::string id = unique_name("t");
  auto r = b.run(id, {"true"});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("prestart hook /bin/false failed"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));

  b.config()["hooks"]["prestart"] = {
      {{"path", "/bin/sleep"}, {"args", {"sleep", "30"}}, {"timeout", 1}}};
  auto slow = b.run(unique_name("t"), {"true"});
  EXPECT_NE(slow.status, 0);
  EXPECT_NE(slow.err.find("timed out"), std::string::npos) << slow.err;
}

class ConsoleSocket {
 public:
  explicit ConsoleSocket(const std::string& path) : path_(path) {
    fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
    if (bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) || listen(fd_, 1))
      throw std::runtime_error("console socket");
  }
  ~ConsoleSocket() {
    close(fd_);
    unlink(path_.c_str());
  }
  berth::UniqueFd take_master() {
    berth::UniqueFd conn(accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
    return berth::receive_fd(conn.get(), 0, "receive console fd");
  }

 private:
  std::string path_;
  int fd_;
};

// What the container wrote to its terminal until `mark` (or 5 s of silence, or its end).
std::string read_until(int master, const std::string& mark) {
  std::string out;
  char buf[512];
  pollfd p{master, POLLIN, 0};
  while (out.find(mark) == std::string::npos && poll(&p, 1, 5000) > 0) {
    ssize_t n = read(master, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

TEST(Console, PtyMasterGoesToTheConsoleSocket) {
  Bundle b;
  std::string id = unique_name("t");
  ConsoleSocket sock(b.dir() + "/console.sock");
  b.set_args({"sh", "-c", "tty; stty size; echo done"});
  b.config()["process"]["terminal"] = true;
  b.config()["process"]["consoleSize"] = {{"height", 30}, {"width", 100}};
  b.save();
  auto c =
      b.runtime({"create", "--bundle", b.dir(), "--console-socket", b.dir() + "/console.sock", id});
  ASSERT_EQ(c.status, 0) << c.err;
  auto master = sock.take_master();
  ASSERT_TRUE(master);
  ASSERT_EQ(b.runtime({"start", id}).status, 0);
  std::string out = read_until(master.get(), "done");
  EXPECT_NE(out.find("/dev/pts/0"), std::string::npos) << out;
  EXPECT_NE(out.find("30 100"), std::string::npos) << out;
}

// As with runc, the process's terminal becomes its user's (the group stays devpts' tty gid),
// so that a non-root process owns the terminal it writes to.
TEST(Console, TerminalBelongsToTheProcessUser) {
  Bundle b;
  std::string id = unique_name("t");
  ConsoleSocket sock(b.dir() + "/console.sock");
  b.set_args({"sh", "-c", "stat -c '%u:%g' $(tty); echo done"});
  b.config()["process"]["terminal"] = true;
  b.config()["process"]["user"] = {{"uid", 1000}, {"gid", 1000}};
  b.save();
  auto c =
      b.runtime({"create", "--bundle", b.dir(), "--console-socket", b.dir() + "/console.sock", id});
  ASSERT_EQ(c.status, 0) << c.err;
  auto master = sock.take_master();
  ASSERT_TRUE(master);
  auto st = b.runtime({"start", id});
  ASSERT_EQ(st.status, 0) << st.err;
  std::string out = read_until(master.get(), "done");
  EXPECT_NE(out.find("1000:5\r\ndone"), std::string::npos) << out;
}

// The same for exec's terminal, which belongs to the exec's user, not the container's.
TEST(Console, ExecTerminalBelongsToTheExecUser) {
  Bundle b;
  std::string id = unique_name("t");
  b.set_args({"sleep", "1000"});
  ASSERT_EQ(b.runtime({"run", "-d", "--bundle", b.dir(), id}).status, 0);
  ConsoleSocket sock(b.dir() + "/console.sock");
  auto e = b.runtime({"exec", "-d", "-t", "--console-socket", b.dir() + "/console.sock", "-u",
                      "1001:1001", id, "sh", "-c", "stat -c '%u:%g' $(tty); echo done"});
  ASSERT_EQ(e.status, 0) << e.err;
  auto master = sock.take_master();
  ASSERT_TRUE(master);
  std::string out = read_until(master.get(), "done");
  EXPECT_NE(out.find("1001:5\r\ndone"), std::string::npos) << out;
}

TEST(Console, TerminalWithoutSocketIsRefusedWhenDetached) {
  Bundle b;
  b.config()["process"]["terminal"] = true;
  b.save();
  std::string id = unique_name("t");
  auto r = b.runtime({"create", "--bundle", b.dir(), id});
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.err.find("console socket"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(b.state_root() + "/" + id));
}

}  // namespace
}  // namespace berth::test
