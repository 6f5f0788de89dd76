// exec: a new process in a running container, described by flags or by a process.json.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::runtime_cli {

Verb add_exec(CLI::App& app) {
  struct Args {
    runtime::ExecOptions opts;
    std::string process_file, user, apparmor, label;
  };
  auto a = std::make_shared<Args>();
  auto& o = a->opts;
  auto* cmd = app.add_subcommand("exec", "run a process in a container");
  cmd->add_option("-p,--process", a->process_file, "process.json for the new process");
  cmd->add_flag("-t,--tty", o.tty, "allocate a pseudo-TTY");
  cmd->add_option("--console-socket", o.console_socket, "unix socket for the pty master");
  cmd->add_flag("-d,--detach", o.detach, "detach from the process");
  cmd->add_option("--pid-file", o.pid_file, "file to write the process id to");
  cmd->add_option("-e,--env", o.env, "set an environment variable")->take_all();
  cmd->add_option("--cwd", o.cwd, "working directory");
  cmd->add_option("-u,--user", a->user, "uid[:gid]");
  cmd->add_option("-g,--additional-gids", o.additional_gids, "additional gids")->take_all();
  cmd->add_option("-c,--cap", o.caps, "add a capability")->take_all();
  cmd->add_flag("--no-new-privs", o.no_new_privs, "set no_new_privs");
  cmd->add_option("--preserve-fds", o.preserve_fds, "pass N extra fds");
  cmd->add_option("--apparmor", a->apparmor, "accepted for runc compatibility");
  cmd->add_option("--process-label", a->label, "accepted for runc compatibility");
  // After the id come the command and its own flags, which CLI11 must not read as ours.
  cmd->prefix_command();
  return {cmd, [a, cmd](runtime::Runtime& rt) {
            auto rest = cmd->remaining();
            if (rest.empty()) throw Error("exec: a container id is required");
            a->opts.args.assign(rest.begin() + 1, rest.end());
            if (!a->process_file.empty())
              a->opts.process =
                  oci::parse_process(nlohmann::json::parse(read_file(a->process_file)));
            if (!a->user.empty()) a->opts.user = a->user;
            return rt.exec(rest[0], a->opts);
          }};
}

}  // namespace berth::runtime_cli
