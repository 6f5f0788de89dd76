// create: sets the container up; its process waits on the exec fifo until `start`.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

void add_create_flags(CLI::App& command, runtime::CreateOptions& opts) {
  command.add_option("-b,--bundle", opts.bundle, "path to the bundle directory");
  command.add_option("--console-socket", opts.console_socket,
                     "unix socket that receives the pty master");
  command.add_option("--pid-file", opts.pid_file, "file to write the process id to");
  command.add_flag("--no-pivot", opts.no_pivot, "use MS_MOVE and chroot instead of pivot_root");
  command.add_flag("--no-new-keyring", opts.no_new_keyring, "keep the caller's session keyring");
  command.add_option("--preserve-fds", opts.preserve_fds, "pass N extra fds (3...) to the process");
}

Verb add_create(CLI::App& app) {
  struct Args {
    runtime::CreateOptions opts;
    std::string id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("create", "create a container");
  add_create_flags(*cmd, a->opts);
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            rt.create(a->id, a->opts);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
