// exec: a new process in a running container, described by flags or by a process.json.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::runtime_cli {

namespace {

struct Args {
  runtime::ExecOptions opts;
  std::string process_file, user, apparmor, label;
};

int exec(runtime::Runtime& rt, Args& a, const std::vector<std::string>& rest) {
  if (rest.empty()) throw Error("a container id is required");
  a.opts.args.assign(rest.begin() + 1, rest.end());
  if (!a.process_file.empty())
    a.opts.process = oci::parse_process(nlohmann::json::parse(read_file(a.process_file)));
  if (!a.user.empty()) a.opts.user = a.user;
  return rt.exec(rest[0], a.opts);
}

}  // namespace

Verb add_exec(CLI::App& app) {
  auto a = std::make_shared<Args>();
  auto& o = a->opts;
  auto* cmd = app.add_subcommand("exec", "run a process in a container");
  cmd->add_option("-p,--process", a->process_file, "path to the process.json");
  cmd->add_flag("-t,--tty", o.tty, "allocate a pseudo-TTY");
  cmd->add_option("--console-socket", o.console_socket,
                  "path to an AF_UNIX socket which will receive the pty master");
  cmd->add_flag("-d,--detach", o.detach, "detach from the container's process");
  cmd->add_option("--pid-file", o.pid_file, "specify the file to write the process id to");
  // Repeatable flags take one value per use, as runc's: `-e A=1 ID cmd` leaves ID alone.
  auto one_each = [](CLI::Option* opt) { opt->allow_extra_args(false); };
  one_each(cmd->add_option("-e,--env", o.env, "set environment variables"));
  cmd->add_option("--cwd", o.cwd, "current working directory in the container");
  cmd->add_option("-u,--user", a->user, "UID (format: <uid>[:<gid>])");
  one_each(cmd->add_option("-g,--additional-gids", o.additional_gids, "additional gids"));
  one_each(cmd->add_option("-c,--cap", o.caps, "add a capability to the bounding set"));
  cmd->add_flag("--no-new-privs", o.no_new_privs, "set the no new privileges value");
  cmd->add_option("--preserve-fds", o.preserve_fds, "pass N additional file descriptors");
  one_each(cmd->add_option("--cgroup", o.cgroups,
                           "run the process in an (existing) sub-cgroup(s). Format is "
                           "[<controller>:]<cgroup>."));
  cmd->add_flag("--ignore-paused", o.ignore_paused, "allow exec in a paused container");
  cmd->add_option("--apparmor", a->apparmor, "accepted for runc compatibility");
  cmd->add_option("--process-label", a->label, "accepted for runc compatibility");
  // After the id come the command and its own flags, which CLI11 must not read as ours.
  cmd->prefix_command();
  return {cmd, [a, cmd](runtime::Runtime& rt) {
            // A failure of the runtime's own exits 255, as runc's: 1 could be the process's.
            try {
              return exec(rt, *a, cmd->remaining());
            } catch (const std::exception& e) {
              throw ExitError(std::string("exec failed: ") + e.what(), 255);
            }
          }};
}

}  // namespace berth::runtime_cli
