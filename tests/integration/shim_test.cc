// berth-shim driven as berthd drives it (src/shim/protocol.h): real containers, the control
// socket, attach connections passed as file descriptors, exit.json and the json-file log.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <sstream>

#include "base/fd_passing.h"
#include "harness.h"
#include "shim/protocol.h"

namespace berth::test {
namespace {

using nlohmann::json;

// Reads until `pred` holds for what was read, the peer closes, or 10 s pass.
std::string read_until(int fd, const std::function<bool(const std::string&)>& pred) {
  std::string got;
  char buf[4096];
  while (!pred(got)) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 10000) <= 0) break;
    ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  return got;
}

std::string read_line(int fd) {
  std::string line;
  char c;
  pollfd p{fd, POLLIN, 0};
  while (poll(&p, 1, 10000) > 0 && read(fd, &c, 1) == 1 && c != '\n') line += c;
  return line;
}

class Shim {
 public:
  Shim(Bundle& b, std::vector<std::string> extra = {})
      : b_(b),
        id_(unique_name("shim")),
        socket_(b.dir() + "/shim.sock"),
        state_dir_(b.dir() + "/shim-state"),
        log_(b.dir() + "/ctr-json.log") {
    int p[2];
    EXPECT_EQ(pipe2(p, O_CLOEXEC), 0);
    std::vector<std::string> argv = {
        BERTH_SHIM_BIN,   "--id",         id_,        "--bundle",   b.dir(),
        "--runtime-root", b.state_root(), "--socket", socket_,      "--state-dir",
        state_dir_,       "--ready-fd",   "3",        "--log-path", log_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    pid_ = fork();
    if (pid_ == 0) {
      setsid();
      dup2(p[1], 3);  // dup2 clears close-on-exec
      int null = open("/dev/null", O_RDWR);
      for (int i = 0; i < 3; i++) dup2(null, i);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execv(args[0], args.data());
      _exit(127);
    }
    close(p[1]);
    ready_ = read_line(p[0]);
    close(p[0]);
  }
  ~Shim() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    run_program({BERTH_RUNTIME_BIN, "--root", b_.state_root(), "delete", "-f", id_});
  }

  const std::string& ready() const { return ready_; }
  const std::string& id() const { return id_; }
  std::string exit_file() const { return state_dir_ + "/exit.json"; }
  const std::string& log() const { return log_; }

  int connect() {
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strcpy(addr.sun_path, socket_.c_str());
    EXPECT_EQ(::connect(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0) << strerror(errno);
    return s;
  }

  // One request on a connection, its answer; with `fd`, the fd goes along (SCM_RIGHTS).
  static json request(int conn, const shim::Request& req, int fd = -1) {
    std::string line = shim::encode(req) + "\n";
    EXPECT_EQ(send_fd(conn, line, fd, 0, "request to the shim"), line.size());
    auto answer = read_line(conn);
    return answer.empty() ? json() : json::parse(answer);
  }

  // A wait asked on a connection of its own before anything can end the container: a shim
  // leaves as soon as its container has exited and no connection waits (berthd then reads
  // exit.json), so a wait asked after that can find it gone. The answer: reply_to(waiter).
  int ask_wait() {
    int waiter = connect();
    std::string line = shim::encode(shim::WaitRequest{}) + "\n";
    EXPECT_EQ(write(waiter, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    return waiter;
  }
  static json reply_to(int conn) {
    auto answer = read_line(conn);
    return answer.empty() ? json() : json::parse(answer);
  }

  // Attaches a socketpair; returns our end.
  int attach(int conn, const shim::AttachRequest& req) {
    int sp[2];
    EXPECT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
    EXPECT_EQ(request(conn, req, sp[1]), shim::ok_reply());
    close(sp[1]);
    return sp[0];
  }

  // The shim's exit code, or -1 when it is still there after 10 s.
  int wait_exit() {
    int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));
    pollfd p{pidfd, POLLIN, 0};
    int ready = poll(&p, 1, 10000);
    close(pidfd);
    if (ready <= 0) return -1;
    int status;
    waitpid(pid_, &status, 0);
    exited_ = true;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  bool runtime_state_exists() const { return std::filesystem::exists(b_.state_root() + "/" + id_); }

 private:
  Bundle& b_;
  std::string id_, socket_, state_dir_, log_, ready_;
  pid_t pid_ = -1;
  bool exited_ = false;
};

// Docker's attach frames -> (stream, payload) in order.
std::vector<std::pair<int, std::string>> parse_frames(const std::string& raw) {
  std::vector<std::pair<int, std::string>> out;
  size_t i = 0;
  while (i + 8 <= raw.size()) {
    uint32_t len = (uint32_t(uint8_t(raw[i + 4])) << 24) | (uint32_t(uint8_t(raw[i + 5])) << 16) |
                   (uint32_t(uint8_t(raw[i + 6])) << 8) | uint32_t(uint8_t(raw[i + 7]));
    EXPECT_EQ(raw.substr(i + 1, 3), std::string(3, '\0'));
    out.emplace_back(raw[i], raw.substr(i + 8, len));
    i += 8 + len;
  }
  EXPECT_EQ(i, raw.size());
  return out;
}

std::vector<json> log_lines(const std::string& path) {
  std::vector<json> out;
  std::istringstream in(slurp(path));
  for (std::string line; std::getline(in, line);) out.push_back(json::parse(line));
  return out;
}

TEST(Shim, PipesFramesWaitExitFileAndLog) {
  Bundle b;
  b.set_args({"sh", "-c", "echo out; echo err >&2; exit 3"});
  Shim shim(b);
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int client = shim.attach(conn, {false, true, true, ""});
  int waiter = shim.ask_wait();
  auto start = Shim::request(conn, shim::StartRequest{});
  EXPECT_EQ(start["ok"], true);
  EXPECT_EQ(std::to_string(shim::started_of(start).pid), shim.ready().substr(3));
  auto wait = shim::exit_of(Shim::reply_to(waiter));
  EXPECT_EQ(wait.code, 3);
  EXPECT_FALSE(wait.oom_killed);
  // The attached connection is closed after the last output.
  auto frames = parse_frames(read_until(client, [](auto&) { return false; }));
  std::string out, err;
  for (auto& [stream, payload] : frames) (stream == 1 ? out : err) += payload;
  EXPECT_EQ(out, "out\n");
  EXPECT_EQ(err, "err\n");
  EXPECT_EQ(shim.wait_exit(), 0);
  auto exit = shim::ExitStatus::from_json(json::parse(slurp(shim.exit_file())));
  EXPECT_EQ(exit.code, 3);
  EXPECT_EQ(exit.finished_at, wait.finished_at);
  auto lines = log_lines(shim.log());
  ASSERT_EQ(lines.size(), 2u);
  for (auto& l : lines) {
    EXPECT_EQ(l.size(), 3u) << l;
    EXPECT_EQ(l["log"], l["stream"] == "stdout" ? "out\n" : "err\n") << l;
    auto t = l["time"].get<std::string>();
    EXPECT_EQ(t.size(), 30u) << t;  // nanoseconds, always 9 digits, Z
  }
  EXPECT_NE(lines[0]["stream"], lines[1]["stream"]);
  EXPECT_FALSE(shim.runtime_state_exists());
  close(client);
  close(conn);
  close(waiter);
}

TEST(Shim, TtyStdinResizeAndExitCode) {
  Bundle b;
  b.config()["process"]["args"] = {"sh"};
  b.config()["process"]["terminal"] = true;
  b.save();
  Shim shim(b, {"--tty", "--stdin"});
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int client = shim.attach(conn, {true, true, true, ""});
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  EXPECT_EQ(Shim::request(conn, shim::ResizeRequest{33, 101}), shim::ok_reply());
  // Asked before the exit: once the container has exited the shim goes away.
  std::string wait = "{\"op\":\"wait\"}\n";
  ASSERT_EQ(write(conn, wait.data(), wait.size()), static_cast<ssize_t>(wait.size()));
  std::string cmd = "stty size; echo h''i; exit 5\n";
  ASSERT_EQ(write(client, cmd.data(), cmd.size()), static_cast<ssize_t>(cmd.size()));
  // Raw output with a tty: no frames; the terminal turns \n into \r\n.
  auto out = read_until(client, [](auto&) { return false; });
  EXPECT_NE(out.find("33 101\r\n"), std::string::npos) << out;
  EXPECT_NE(out.find("hi\r\n"), std::string::npos) << out;
  EXPECT_EQ(out.find('\x01'), std::string::npos);
  EXPECT_EQ(shim::exit_of(json::parse(read_line(conn))).code, 5);
  EXPECT_EQ(shim.wait_exit(), 0);
  EXPECT_EQ(json::parse(slurp(shim.exit_file()))["code"], 5);
  close(client);
  close(conn);
}

TEST(Shim, DetachKeysEndOnlyThatAttachment) {
  Bundle b;
  b.config()["process"]["args"] = {"sh"};
  b.config()["process"]["terminal"] = true;
  b.save();
  Shim shim(b, {"--tty", "--stdin"});
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int watcher = shim.attach(conn, {false, true, false, ""});
  int client = shim.attach(conn, {true, true, true, "q,x"});
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  // q is held back, and passed on once x does not follow.
  std::string line = "echo o''qy\n";
  ASSERT_EQ(write(client, line.data(), line.size()), static_cast<ssize_t>(line.size()));
  auto out = read_until(client, [](auto& s) { return s.find("oqy\r\n") != std::string::npos; });
  EXPECT_NE(out.find("oqy\r\n"), std::string::npos) << out;
  // The whole sequence ends the attachment: the shim closes the connection.
  ASSERT_EQ(write(client, "qx", 2), 2);
  read_until(client, [](auto&) { return false; });
  EXPECT_EQ(send(client, "q", 1, MSG_NOSIGNAL), -1);
  EXPECT_EQ(shim::state_of(Shim::request(conn, shim::StateRequest{})).running, true);
  // The other attachment still sees the container.
  std::string more = "echo still''here\n";
  int again = shim.attach(conn, {true, true, false, ""});
  ASSERT_EQ(write(again, more.data(), more.size()), static_cast<ssize_t>(more.size()));
  auto seen = read_until(watcher, [](auto& s) { return s.find("stillhere") != std::string::npos; });
  EXPECT_NE(seen.find("stillhere"), std::string::npos) << seen;
  EXPECT_EQ(Shim::request(conn, shim::KillRequest{9, false}), shim::ok_reply());
  EXPECT_EQ(shim.wait_exit(), 0);
  for (int fd : {watcher, client, again, conn}) close(fd);
}

TEST(Shim, StdinOnceClosesStdinAtTheEndOfTheFirstAttachedStdin) {
  Bundle b;
  b.set_args({"cat"});
  Shim shim(b, {"--stdin", "--stdin-once"});
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int client = shim.attach(conn, {true, true, true, ""});
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  std::string wait = "{\"op\":\"wait\"}\n";
  ASSERT_EQ(write(conn, wait.data(), wait.size()), static_cast<ssize_t>(wait.size()));
  ASSERT_EQ(write(client, "hello\n", 6), 6);
  shutdown(client, SHUT_WR);  // end of stdin; the output still comes back
  auto frames = parse_frames(read_until(client, [](auto&) { return false; }));
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0], std::make_pair(1, std::string("hello\n")));
  EXPECT_EQ(shim::exit_of(json::parse(read_line(conn))).code, 0);
  EXPECT_EQ(shim.wait_exit(), 0);
  close(client);
  close(conn);
}

TEST(Shim, KillGives128PlusSignal) {
  Bundle b;
  b.set_args({"sleep", "100"});
  Shim shim(b);
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int waiter = shim.ask_wait();
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  EXPECT_EQ(shim::state_of(Shim::request(conn, shim::StateRequest{})).running, true);
  EXPECT_EQ(Shim::request(conn, shim::KillRequest{9, false}), shim::ok_reply());
  EXPECT_EQ(shim::exit_of(Shim::reply_to(waiter)).code, 137);
  close(waiter);
  EXPECT_EQ(shim.wait_exit(), 0);
  EXPECT_FALSE(shim.runtime_state_exists());
  close(conn);
}

TEST(Shim, OutlivesBerthd) {
  Bundle b;
  b.set_args({"sh", "-c", "sleep 0.3; echo done; exit 7"});
  Shim shim(b);
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  close(conn);  // berthd is gone
  EXPECT_EQ(shim.wait_exit(), 0);
  EXPECT_EQ(json::parse(slurp(shim.exit_file()))["code"], 7);
  auto lines = log_lines(shim.log());
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0]["log"], "done\n");
  EXPECT_FALSE(shim.runtime_state_exists());
}

TEST(Shim, MissingCommandIsReportedAndLeavesNothing) {
  Bundle b;
  b.set_args({"/nosuch"});
  Shim shim(b);
  EXPECT_EQ(shim.ready().rfind("error ", 0), 0u) << shim.ready();
  EXPECT_NE(shim.ready().find("exec: \"/nosuch\": stat /nosuch: no such file or directory"),
            std::string::npos)
      << shim.ready();
  EXPECT_EQ(shim.wait_exit(), 1);
  EXPECT_FALSE(shim.runtime_state_exists());

  b.set_args({"nosuch"});
  Shim again(b);
  EXPECT_EQ(again.ready(), "error exec: \"nosuch\": executable file not found in $PATH");
  EXPECT_EQ(again.wait_exit(), 1);
}

TEST(Shim, JsonLogRotatesAsDocker) {
  Bundle b;
  b.set_args({"sh", "-c", "i=0; while [ $i -lt 300 ]; do echo line$i; i=$((i+1)); done"});
  Shim shim(b, {"--log-opt", "max-size=1k", "--log-opt", "max-file=3"});
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int waiter = shim.ask_wait();
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  EXPECT_EQ(shim::exit_of(Shim::reply_to(waiter)).code, 0);
  close(waiter);
  EXPECT_EQ(shim.wait_exit(), 0);
  for (auto suffix : {"", ".1", ".2"}) {
    auto path = shim.log() + suffix;
    auto size = std::filesystem::file_size(path);
    // Rotation happens once a file has reached max-size, before the next line.
    EXPECT_GE(size, suffix[0] ? 1024u : 1u) << path;
    EXPECT_LT(size, 1024u + 100u) << path;
  }
  EXPECT_FALSE(std::filesystem::exists(shim.log() + ".3"));
  auto last = log_lines(shim.log());
  ASSERT_FALSE(last.empty());
  EXPECT_EQ(last.back()["log"], "line299\n");
  close(conn);
}

TEST(Shim, ReportsAnOomKill) {
  if (!cgroup_v1_has("memory")) GTEST_SKIP() << "no v1 memory controller";
  Bundle b;
  b.config()["linux"]["resources"]["memory"] = {{"limit", 16 << 20}, {"swap", 16 << 20}};
  b.set_args({"tail", "/dev/zero"});  // holds an endless "line" in memory
  Shim shim(b, {"--log-driver", "none"});
  ASSERT_EQ(shim.ready().rfind("ok ", 0), 0u) << shim.ready();
  int conn = shim.connect();
  int waiter = shim.ask_wait();
  EXPECT_EQ(Shim::request(conn, shim::StartRequest{})["ok"], true);
  auto exit = shim::exit_of(Shim::reply_to(waiter));
  close(waiter);
  EXPECT_EQ(exit.code, 137);
  EXPECT_TRUE(exit.oom_killed);
  EXPECT_GE(exit.oom_kills, 1u);
  EXPECT_EQ(shim.wait_exit(), 0);
  EXPECT_FALSE(std::filesystem::exists(shim.log()));
  close(conn);
}

}  // namespace
}  // namespace berth::test
