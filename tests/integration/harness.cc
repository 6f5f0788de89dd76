#include "harness.h"

#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace berth::test {

Result run_program(const std::vector<std::string>& argv, const std::string& input) {
  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
    throw std::runtime_error("pipe");
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    std::vector<char*> args;
    for (auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!input.empty()) {
    [[maybe_unused]] ssize_t n = write(in[1], input.data(), input.size());
  }
  close(in[1]);
  Result r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  char buf[4096];
  int status = 0;
  bool exited = false;
  // `create` and `run -d` leave the container holding our pipes: stop reading once the
  // program itself has exited and its pipes are drained, not at EOF.
  for (;;) {
    int ready = poll(fds, 2, exited ? 0 : 20);
    if (ready < 0) break;
    bool got = false;
    for (int i = 0; i < 2; i++) {
      if (fds[i].fd < 0 || !fds[i].revents) continue;
      ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        close(fds[i].fd);
        fds[i].fd = -1;
        continue;
      }
      got = true;
      (i == 0 ? r.out : r.err).append(buf, static_cast<size_t>(n));
    }
    if (fds[0].fd < 0 && fds[1].fd < 0) break;
    if (exited && !got) break;
    if (!exited && waitpid(pid, &status, WNOHANG) == pid) exited = true;
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  if (!exited) waitpid(pid, &status, 0);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

std::string unique_name(const std::string& prefix) {
  static std::atomic<int> counter{0};
  return prefix + "-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

bool cgroup_v1_has(const std::string& controller) {
  struct stat st;
  return stat(("/sys/fs/cgroup/" + controller + "/cgroup.procs").c_str(), &st) == 0;
}

Bundle::Bundle() {
  char tmpl[] = "/tmp/berth-it-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp");
  dir_ = tmpl;
  // Reachable by the ids a user namespace maps root to.
  chmod(dir_.c_str(), 0755);
  namespace fs = std::filesystem;
  fs::create_directories(rootfs() + "/bin");
  for (auto d : {"proc", "sys", "dev", "tmp", "etc", "root", "var"})
    fs::create_directories(rootfs() + "/" + d);
  fs::copy_file("/bin/busybox", rootfs() + "/bin/busybox");
  auto list = run_program({"/bin/busybox", "--list"}).out;
  std::istringstream names(list);
  for (std::string name; std::getline(names, name);) {
    if (name.empty() || name == "busybox") continue;
    symlink("busybox", (rootfs() + "/bin/" + name).c_str());
  }
  std::ofstream(rootfs() + "/etc/passwd")
      << "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n";
  std::ofstream(rootfs() + "/etc/group") << "root:x:0:\nnogroup:x:65534:\n";
  auto spec = run_program({BERTH_RUNTIME_BIN, "spec", "--bundle", dir_});
  if (spec.status != 0) throw std::runtime_error("berth-runtime spec failed: " + spec.err);
  config_ = nlohmann::json::parse(slurp(dir_ + "/config.json"));
  config_["process"]["terminal"] = false;
  config_["root"]["readonly"] = false;
  save();
}

Bundle::~Bundle() {
  for (auto& id : ids_)
    run_program({BERTH_RUNTIME_BIN, "--root", state_root(), "delete", "-f", id});
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void Bundle::set_args(const std::vector<std::string>& args) {
  config_["process"]["args"] = args;
  config_["process"]["terminal"] = false;
  save();
}

void Bundle::save() const {
  std::ofstream(dir_ + "/config.json") << config_.dump(2);
}

Result Bundle::runtime(const std::vector<std::string>& args, const std::string& input) {
  std::vector<std::string> argv = {BERTH_RUNTIME_BIN, "--root", state_root()};
  argv.insert(argv.end(), args.begin(), args.end());
  // Remember ids so that the destructor deletes whatever the test left behind.
  for (size_t i = 0; i < args.size(); i++) {
    if (args[i] == "create" || args[i] == "run") {
      if (!args.empty()) ids_.push_back(args.back());
      break;
    }
  }
  return run_program(argv, input);
}

Result Bundle::run(const std::string& id, const std::vector<std::string>& args) {
  set_args(args);
  return runtime({"run", "--bundle", dir_, id});
}

}  // namespace berth::test
