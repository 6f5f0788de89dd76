#include "runtime/oci_runtime.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <nlohmann/json.hpp>
#include <optional>

#include "base/error.h"
#include "base/fs.h"
#include "base/spawn.h"

namespace berth::runtime {
namespace {

class Library final : public OciRuntime {
 public:
  explicit Library(const RuntimeConfig& c) : rt_(RuntimeOptions{.root = c.root}) {}

  pid_t create(const std::string& id, const CreateOptions& opts) override {
    return rt_.create(id, opts);
  }
  void start(const std::string& id) override { rt_.start(id); }
  void kill(const std::string& id, int signal, bool all) override { rt_.kill(id, signal, all); }
  void remove(const std::string& id, bool force) override { rt_.remove(id, force); }
  void exec(const std::string& id, const ExecOptions& opts, const nlohmann::json&) override {
    rt_.exec(id, opts);
  }
  void pause(const std::string& id) override { rt_.pause(id); }
  void resume(const std::string& id) override { rt_.resume(id); }
  std::vector<pid_t> pids(const std::string& id) override { return rt_.pids(id); }
  void update(const std::string& id, const nlohmann::json& resources) override {
    rt_.update(id, oci::parse_resources(resources));
  }

 private:
  Runtime rt_;
};

// The message of a failed command: the last error in its JSON log (runc's and crun's
// --log-format json: one {"level","msg"} object a line), else the log's last line.
std::string log_error(const std::string& log) {
  std::string last_error, last_line;
  for (auto& line : split(read_file_if_exists(log).value_or(""), '\n')) {
    if (trim(line).empty()) continue;
    last_line = trim(line);
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object() || !j.contains("msg") || !j["msg"].is_string()) continue;
    std::string level = j.value("level", "");
    if (level == "error" || level == "fatal") last_error = j["msg"];
  }
  return last_error.empty() ? last_line : last_error;
}

// runc and crun connect to --console-socket by its path, which must fit in sun_path; berth's
// sockets live under the exec root, deeper than that in a test's temporary directory. A
// longer path is handed over as a symbolic link in a directory of its own under /tmp.
class ShortSocketPath {
 public:
  explicit ShortSocketPath(const std::string& path) : path_(path) {
    if (path.size() < sizeof(sockaddr_un{}.sun_path)) return;
    char dir[] = "/tmp/berth-console-XXXXXX";
    if (!::mkdtemp(dir)) throw_errno("mkdtemp for the console socket " + path);
    dir_ = dir;
    path_ = dir_ + "/sock";
    if (::symlink(path.c_str(), path_.c_str()) < 0) {
      int err = errno;
      ::rmdir(dir_.c_str());
      throw_errno("symlink " + path_ + " to " + path, err);
    }
  }
  ~ShortSocketPath() {
    if (dir_.empty()) return;
    ::unlink(path_.c_str());
    ::rmdir(dir_.c_str());
  }
  ShortSocketPath(const ShortSocketPath&) = delete;
  ShortSocketPath& operator=(const ShortSocketPath&) = delete;
  const std::string& path() const { return path_; }

 private:
  std::string path_, dir_;
};

// An OCI runtime binary with runc's command line: `<binary> <args> --root R --log L
// --log-format json <command> ...`, one process per operation.
class Binary final : public OciRuntime {
 public:
  explicit Binary(RuntimeConfig c) : c_(std::move(c)) {}

  pid_t create(const std::string& id, const CreateOptions& opts) override {
    std::string pid_file =
        opts.pid_file.empty() ? path_join(c_.work_dir, "runtime-init.pid") : opts.pid_file;
    ::unlink(pid_file.c_str());
    std::vector<std::string> argv = {"create", "--bundle", opts.bundle, "--pid-file", pid_file};
    std::optional<ShortSocketPath> console;
    if (!opts.console_socket.empty()) {
      console.emplace(opts.console_socket);
      argv.insert(argv.end(), {"--console-socket", console->path()});
    }
    if (opts.no_pivot) argv.push_back("--no-pivot");
    if (opts.no_new_keyring) argv.push_back("--no-new-keyring");
    if (opts.preserve_fds > 0)
      argv.insert(argv.end(), {"--preserve-fds", std::to_string(opts.preserve_fds)});
    argv.push_back(id);
    run(argv, true);
    pid_t pid = read_pid(pid_file);
    if (opts.pid_file.empty()) ::unlink(pid_file.c_str());
    return pid;
  }
  void start(const std::string& id) override { run({"start", id}, false); }
  void kill(const std::string& id, int signal, bool all) override {
    if (all) {
      run({"kill", "--all", id, std::to_string(signal)}, false);
    } else {
      run({"kill", id, std::to_string(signal)}, false);
    }
  }
  void remove(const std::string& id, bool force) override {
    if (force) {
      run({"delete", "--force", id}, false);
    } else {
      run({"delete", id}, false);
    }
  }
  void exec(const std::string& id, const ExecOptions& opts,
            const nlohmann::json& process) override {
    if (!opts.detach || opts.pid_file.empty())
      throw InvalidArgument("exec through " + c_.binary + ": only detached, with a pid file");
    std::string spec = path_join(c_.work_dir, "runtime-exec-process.json");
    write_file_atomic(spec, process.dump(), 0600, Durability::kCrashSafe);
    std::vector<std::string> argv = {"exec",       "--process",   spec,
                                     "--pid-file", opts.pid_file, "--detach"};
    std::optional<ShortSocketPath> console;
    if (!opts.console_socket.empty()) {
      console.emplace(opts.console_socket);
      argv.insert(argv.end(), {"--console-socket", console->path()});
    }
    argv.push_back(id);
    try {
      run(argv, true);
    } catch (...) {
      ::unlink(spec.c_str());
      throw;
    }
    ::unlink(spec.c_str());
  }
  void pause(const std::string& id) override { run({"pause", id}, false); }
  void resume(const std::string& id) override { run({"resume", id}, false); }
  void update(const std::string& id, const nlohmann::json& resources) override {
    std::string file =
        path_join(c_.work_dir, "runtime-update-" + std::to_string(::gettid()) + ".json");
    write_file_atomic(file, resources.dump(), 0600, Durability::kCrashSafe);
    try {
      run({"update", "--resources", file, id}, false);
    } catch (...) {
      ::unlink(file.c_str());
      throw;
    }
    ::unlink(file.c_str());
  }
  std::vector<pid_t> pids(const std::string& id) override {
    std::string out = run({"ps", "--format", "json", id}, false);
    auto j = nlohmann::json::parse(out, nullptr, false);
    if (!j.is_array()) throw Error(c_.binary + " ps " + id + ": not a JSON list: " + trim(out));
    return j.get<std::vector<pid_t>>();
  }

 private:
  static pid_t read_pid(const std::string& pid_file) {
    auto text = trim(read_file(pid_file));
    pid_t pid = static_cast<pid_t>(std::atol(text.c_str()));
    if (pid <= 0) throw Error("pid file " + pid_file + ": no pid in \"" + text + "\"");
    return pid;
  }

  // Runs one command and returns its stdout. With `inherit_stdio` the binary gets the
  // caller's fds 0-2 (the container's stdio during create and exec) and its stdout is not
  // read. A failure throws Docker's "OCI runtime <command> failed: <the runtime's message>".
  std::string run(const std::vector<std::string>& command, bool inherit_stdio) {
    // One log per thread: berthd's threads may drive one container's runtime at once.
    std::string log = path_join(c_.work_dir, "runtime-" + std::to_string(::gettid()) + "-log.json");
    ::unlink(log.c_str());
    std::vector<std::string> argv = {c_.binary};
    argv.insert(argv.end(), c_.args.begin(), c_.args.end());
    argv.insert(argv.end(), {"--root", c_.root, "--log", log, "--log-format", "json"});
    argv.insert(argv.end(), command.begin(), command.end());
    using Output = SpawnOptions::Output;
    SpawnOptions opts;
    if (inherit_stdio) opts = {Output::kInherit, Output::kInherit, true};
    auto result = run_program(argv, opts);
    if (!result) throw Error("run OCI runtime " + c_.binary + ": not found");
    const std::string& out = result->output;
    std::string message = log_error(log);
    ::unlink(log.c_str());
    if (result->succeeded()) return out;
    if (message.empty()) message = c_.binary + " " + command[0] + " " + result->how_it_ended();
    throw Error("OCI runtime " + command[0] + " failed: " + message);
  }

  RuntimeConfig c_;
};

}  // namespace

std::unique_ptr<OciRuntime> open_runtime(const RuntimeConfig& config) {
  if (config.binary.empty()) return std::make_unique<Library>(config);
  return std::make_unique<Binary>(config);
}

}  // namespace berth::runtime
