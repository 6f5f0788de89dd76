// berth-runtime: the runc command line over berth's runtime library.
#include <fcntl.h>
#include <seccomp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "oci/spec.h"
#include "runtime/runtime.h"

namespace {

using berth::Error;
using berth::runtime::Runtime;
using nlohmann::json;

// "512m", "1g", "1024" -> bytes; "-1" stays -1 (unlimited).
int64_t parse_bytes(const std::string& s) {
  if (s == "-1") return -1;
  size_t used = 0;
  double v;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw Error("invalid size: " + s);
  }
  std::string unit = s.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1}, {"k", 1024.0}, {"m", 1048576.0}, {"g", 1073741824.0}, {"t", 1099511627776.0}};
  for (auto& [u, mul] : kUnits)
    if (unit == u) return static_cast<int64_t>(v * mul);
  throw Error("invalid size: " + s);
}

void print_table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> width;
  for (auto& r : rows)
    for (size_t i = 0; i < r.size(); i++) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], r[i].size());
    }
  for (auto& r : rows) {
    std::string line;
    for (size_t i = 0; i < r.size(); i++) {
      line += r[i];
      if (i + 1 < r.size()) line += std::string(width[i] - r[i].size() + 3, ' ');
    }
    std::cout << line << "\n";
  }
}

// Runs ps(1) with the caller's options (default -ef) and keeps the header and the lines of
// the container's processes. ps gets its arguments directly, never through a shell.
void print_ps_table(const std::vector<pid_t>& pids, std::vector<std::string> ps_args) {
  if (ps_args.empty()) ps_args = {"-ef"};
  ps_args.insert(ps_args.begin(), "ps");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) berth::throw_errno("pipe");
  berth::UniqueFd rd(p[0]), wr(p[1]);
  pid_t child = ::fork();
  if (child < 0) berth::throw_errno("fork ps");
  if (child == 0) {
    ::dup2(wr.get(), STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : ps_args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    _exit(127);
  }
  wr.reset();
  std::string out = berth::read_fd(rd.get());
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("ps failed (is procps installed?)");
  int pid_col = -1;
  bool header = true;
  for (auto& line : berth::split(out, '\n')) {
    std::vector<std::string> words;
    for (auto& w : berth::split(line, ' '))
      if (!w.empty()) words.push_back(w);
    if (header) {
      for (size_t i = 0; i < words.size(); i++)
        if (words[i] == "PID") pid_col = static_cast<int>(i);
      if (pid_col < 0) throw Error("ps output has no PID column");
      std::cout << line << "\n";
      header = false;
      continue;
    }
    if (static_cast<size_t>(pid_col) >= words.size()) continue;
    pid_t pid = std::atoi(words[pid_col].c_str());
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) std::cout << line << "\n";
  }
}

json features() {
  auto ver = seccomp_version();
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async",      "atime",         "bind",    "defaults", "dev",         "diratime", "dirsync",
        "exec",       "mand",          "noatime", "nodev",    "nodiratime",  "noexec",   "nomand",
        "norelatime", "nostrictatime", "nosuid",  "private",  "rbind",       "relatime", "remount",
        "ro",         "rprivate",      "rshared", "rslave",   "runbindable", "rw",       "shared",
        "slave",      "strictatime",   "suid",    "sync",     "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
          {"archs",
           {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_ARM"}},
          {"knownFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations",
       {{"io.github.seccomp.libseccomp.version", std::to_string(ver->major) + "." +
                                                     std::to_string(ver->minor) + "." +
                                                     std::to_string(ver->micro)}}}};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berth-runtime: an OCI container runtime with runc's command line"};
  app.require_subcommand(0, 1);
  berth::runtime::RuntimeOptions ropts;
  std::string log_path, log_format = "text", rootless, criu;
  bool debug = false, version = false;
  app.add_option("--root", ropts.root, "where container state is kept");
  app.add_option("--log", log_path, "log file (default stderr)");
  app.add_option("--log-format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "log debug messages");
  app.add_flag("--systemd-cgroup", ropts.systemd_cgroup, "cgroupsPath in slice:prefix:name form");
  app.add_option("--rootless", rootless, "accepted for runc compatibility");
  app.add_option("--criu", criu, "accepted for runc compatibility");
  app.add_flag("-v,--version", version, "print the version");

  berth::runtime::CreateOptions copts;
  auto add_create_flags = [&](CLI::App* c) {
    c->add_option("-b,--bundle", copts.bundle, "path to the bundle directory");
    c->add_option("--console-socket", copts.console_socket,
                  "unix socket that receives the pty master");
    c->add_option("--pid-file", copts.pid_file, "file to write the process id to");
    c->add_flag("--no-pivot", copts.no_pivot, "use MS_MOVE and chroot instead of pivot_root");
    c->add_flag("--no-new-keyring", copts.no_new_keyring, "keep the caller's session keyring");
    c->add_option("--preserve-fds", copts.preserve_fds, "pass N extra fds (3...) to the process");
  };
  std::string id;

  auto* spec_cmd = app.add_subcommand("spec", "write a default config.json");
  bool spec_rootless = false;
  std::string spec_bundle = ".";
  spec_cmd->add_flag("--rootless", spec_rootless, "a spec for a rootless container");
  spec_cmd->add_option("-b,--bundle", spec_bundle, "where to write config.json");

  auto* create = app.add_subcommand("create", "create a container");
  add_create_flags(create);
  create->add_option("id", id)->required();

  auto* start = app.add_subcommand("start", "run the user process of a created container");
  start->add_option("id", id)->required();

  auto* run = app.add_subcommand("run", "create and start a container");
  add_create_flags(run);
  bool detach = false, keep = false;
  run->add_flag("-d,--detach", detach, "detach from the container's process");
  run->add_flag("--keep", keep, "accepted for runc compatibility");
  run->add_option("id", id)->required();

  auto* state = app.add_subcommand("state", "print the state of a container");
  state->add_option("id", id)->required();

  auto* list = app.add_subcommand("list", "list containers");
  bool quiet = false;
  std::string format = "table";
  list->add_flag("-q,--quiet", quiet, "print ids only");
  list->add_option("-f,--format", format, "table or json")->check(CLI::IsMember({"table", "json"}));

  auto* kill = app.add_subcommand("kill", "send a signal to a container's process");
  bool kill_all = false;
  std::string signal = "SIGTERM";
  kill->add_flag("-a,--all", kill_all, "signal every process of the container");
  kill->add_option("id", id)->required();
  kill->add_option("signal", signal);

  auto* del = app.add_subcommand("delete", "delete a container");
  bool force = false;
  del->add_flag("-f,--force", force, "kill and delete a running container");
  del->add_option("id", id)->required();

  auto* exec = app.add_subcommand("exec", "run a process in a container");
  berth::runtime::ExecOptions eopts;
  std::string process_file;
  std::vector<std::string> exec_args;
  exec->add_option("-p,--process", process_file, "process.json for the new process");
  exec->add_flag("-t,--tty", eopts.tty, "allocate a pseudo-TTY");
  exec->add_option("--console-socket", eopts.console_socket, "unix socket for the pty master");
  exec->add_flag("-d,--detach", eopts.detach, "detach from the process");
  exec->add_option("--pid-file", eopts.pid_file, "file to write the process id to");
  exec->add_option("-e,--env", eopts.env, "set an environment variable")->take_all();
  exec->add_option("--cwd", eopts.cwd, "working directory");
  std::string user;
  exec->add_option("-u,--user", user, "uid[:gid]");
  exec->add_option("-g,--additional-gids", eopts.additional_gids, "additional gids")->take_all();
  exec->add_option("-c,--cap", eopts.caps, "add a capability")->take_all();
  exec->add_flag("--no-new-privs", eopts.no_new_privs, "set no_new_privs");
  exec->add_option("--preserve-fds", eopts.preserve_fds, "pass N extra fds");
  std::string apparmor, label;
  exec->add_option("--apparmor", apparmor, "accepted for runc compatibility");
  exec->add_option("--process-label", label, "accepted for runc compatibility");
  exec->prefix_command();

  auto* ps = app.add_subcommand("ps", "list the processes of a container");
  std::string ps_format = "table";
  ps->add_option("-f,--format", ps_format, "table or json")
      ->check(CLI::IsMember({"table", "json"}));
  ps->prefix_command();

  auto* pause = app.add_subcommand("pause", "freeze a container's processes");
  pause->add_option("id", id)->required();
  auto* resume = app.add_subcommand("resume", "thaw a paused container");
  resume->add_option("id", id)->required();

  auto* events = app.add_subcommand("events", "print container stats");
  bool stats_once = false;
  int interval = 5;
  events->add_flag("--stats", stats_once, "print stats once and exit");
  events->add_option("--interval", interval, "seconds between stats");
  events->add_option("id", id)->required();

  auto* update = app.add_subcommand("update", "change a container's resource limits");
  std::string resources_file, memory, reservation, swap, cpu_shares, cpu_quota, cpu_period,
      cpuset_cpus, cpuset_mems, pids_limit, blkio_weight;
  update->add_option("-r,--resources", resources_file, "resources JSON file, - for stdin");
  update->add_option("--memory", memory, "memory limit");
  update->add_option("--memory-reservation", reservation, "memory reservation");
  update->add_option("--memory-swap", swap, "memory plus swap limit");
  update->add_option("--cpu-shares", cpu_shares, "CPU shares");
  update->add_option("--cpu-quota", cpu_quota, "CFS quota in microseconds");
  update->add_option("--cpu-period", cpu_period, "CFS period in microseconds");
  update->add_option("--cpuset-cpus", cpuset_cpus, "CPUs allowed");
  update->add_option("--cpuset-mems", cpuset_mems, "memory nodes allowed");
  update->add_option("--pids-limit", pids_limit, "maximum number of tasks");
  update->add_option("--blkio-weight", blkio_weight, "block IO weight (10-1000)");
  update->add_option("id", id)->required();

  app.add_subcommand("features", "print the features this runtime supports");

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    berth::log::configure(
        log_path, log_format == "json" ? berth::log::Format::kJson : berth::log::Format::kText,
        debug ? berth::log::Level::kDebug : berth::log::Level::kWarn);
    if (version) {
      std::cout << "berth-runtime version " << BERTH_VERSION << "\nspec: 1.2.0\n";
      return 0;
    }
    Runtime rt(ropts);
    auto* cmd = app.get_subcommands().empty() ? nullptr : app.get_subcommands()[0];
    if (!cmd) {
      std::cout << app.help();
      return 0;
    }
    std::string name = cmd->get_name();
    if (name == "spec") {
      auto path = berth::path_join(spec_bundle, "config.json");
      if (berth::path_exists(path)) throw Error("File " + path + " exists. Remove it first");
      berth::write_file_atomic(path, berth::oci::default_spec(spec_rootless).dump(1, '\t'));
    } else if (name == "create") {
      rt.create(id, copts);
    } else if (name == "start") {
      rt.start(id);
    } else if (name == "run") {
      return rt.run(id, copts, detach);
    } else if (name == "state") {
      std::cout << rt.state(id).to_json().dump(2) << "\n";
    } else if (name == "list") {
      auto all = rt.list();
      if (format == "json") {
        auto arr = nlohmann::ordered_json::array();
        for (auto& s : all) arr.push_back(s.to_json());
        std::cout << arr.dump() << "\n";
      } else if (quiet) {
        for (auto& s : all) std::cout << s.id << "\n";
      } else {
        std::vector<std::vector<std::string>> rows = {
            {"ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"}};
        for (auto& s : all)
          rows.push_back({s.id, std::to_string(s.pid), berth::runtime::status_name(s.status),
                          s.bundle, s.created, s.owner.empty() ? "root" : s.owner});
        print_table(rows);
      }
    } else if (name == "kill") {
      rt.kill(id, berth::runtime::parse_signal(signal), kill_all);
    } else if (name == "delete") {
      rt.remove(id, force);
    } else if (name == "exec") {
      auto rest = exec->remaining();
      if (rest.empty()) throw Error("exec: a container id is required");
      id = rest[0];
      eopts.args.assign(rest.begin() + 1, rest.end());
      if (!process_file.empty())
        eopts.process = berth::oci::parse_process(json::parse(berth::read_file(process_file)));
      if (!user.empty()) eopts.user = user;
      return rt.exec(id, eopts);
    } else if (name == "ps") {
      auto rest = ps->remaining();
      if (rest.empty()) throw Error("ps: a container id is required");
      auto pids = rt.pids(rest[0]);
      if (ps_format == "json") {
        std::cout << json(pids).dump() << "\n";
      } else {
        print_ps_table(pids, std::vector<std::string>(rest.begin() + 1, rest.end()));
      }
    } else if (name == "pause") {
      rt.pause(id);
    } else if (name == "resume") {
      rt.resume(id);
    } else if (name == "events") {
      for (;;) {
        json ev = {{"type", "stats"}, {"id", id}, {"data", rt.stats(id)}};
        std::cout << ev.dump() << std::endl;
        if (stats_once) break;
        ::sleep(static_cast<unsigned>(interval));
      }
    } else if (name == "update") {
      berth::oci::Resources r;
      if (!resources_file.empty()) {
        std::string text =
            resources_file == "-" ? berth::read_fd(STDIN_FILENO) : berth::read_file(resources_file);
        r = berth::oci::parse_resources(json::parse(text));
      }
      auto num = [](const std::string& s, const char* flag) -> int64_t {
        try {
          size_t used = 0;
          int64_t v = std::stoll(s, &used);
          if (used != s.size()) throw std::invalid_argument(s);
          return v;
        } catch (const std::exception&) {
          throw Error(std::string("invalid value for ") + flag + ": " + s);
        }
      };
      if (!memory.empty()) r.memory.limit = parse_bytes(memory);
      if (!reservation.empty()) r.memory.reservation = parse_bytes(reservation);
      if (!swap.empty()) r.memory.swap = parse_bytes(swap);
      if (!cpu_shares.empty()) r.cpu.shares = num(cpu_shares, "--cpu-shares");
      if (!cpu_quota.empty()) r.cpu.quota = num(cpu_quota, "--cpu-quota");
      if (!cpu_period.empty()) r.cpu.period = num(cpu_period, "--cpu-period");
      if (!cpuset_cpus.empty()) r.cpu.cpus = cpuset_cpus;
      if (!cpuset_mems.empty()) r.cpu.mems = cpuset_mems;
      if (!pids_limit.empty()) r.pids_limit = num(pids_limit, "--pids-limit");
      if (!blkio_weight.empty())
        r.block_io.weight = static_cast<uint16_t>(num(blkio_weight, "--blkio-weight"));
      rt.update(id, r);
    } else if (name == "features") {
      std::cout << features().dump(4) << "\n";
    }
    return 0;
  } catch (const std::exception& e) {
    // Callers such as containerd read the error from the log file; people read stderr.
    if (!log_path.empty()) berth::log::error(e.what());
    std::cerr << "berth-runtime: " << e.what() << "\n";
    return 1;
  }
}
