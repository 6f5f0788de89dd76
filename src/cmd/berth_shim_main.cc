// berth-shim: the per-container monitor that berthd starts; flags as src/shim/protocol.h
// describes them.
#include <CLI/CLI.hpp>
#include <iostream>

#include "shim/shim.h"

int main(int argc, char** argv) {
  berth::shim::Options o;
  CLI::App app{"berth-shim: the monitor of one container, driven by berthd"};
  app.add_option("--id", o.id, "container id")->required();
  app.add_option("--bundle", o.bundle, "OCI bundle directory")->required();
  app.add_option("--runtime-root", o.runtime_root, "the runtime's state root")->required();
  app.add_option("--runtime-binary", o.runtime_binary,
                 "an OCI runtime binary with runc's command line (default: the built-in one)");
  app.add_option("--runtime-arg", o.runtime_args, "a global option of the runtime binary")
      ->allow_extra_args(false);
  app.add_option("--socket", o.socket, "unix socket to serve berthd on")->required();
  app.add_option("--state-dir", o.state_dir, "where exit.json is written")->required();
  // Fds 0-2 are the container's stdio during create: the ready fd must be elsewhere.
  app.add_option("--ready-fd", o.ready_fd, "fd to report \"ok <pid>\" or \"error <msg>\" on")
      ->check(CLI::Range(3, 1 << 20));
  app.add_flag("--tty", o.tty, "the container has a terminal");
  app.add_flag("--stdin", o.stdin, "keep the container's stdin open for attach");
  app.add_flag("--stdin-once", o.stdin_once, "close stdin when the first attached stdin ends");
  app.add_option("--log-driver", o.log_driver, "json-file, local or none")
      ->check(CLI::IsMember({"json-file", "local", "none"}));
  app.add_option("--log-path", o.log_path, "the log file (json-file, local)");
  app.add_option("--log-opt", o.log_opts, "max-size=10m, max-file=3, compress=true");
  CLI11_PARSE(app, argc, argv);
  try {
    return berth::shim::run(o);
  } catch (const std::exception& e) {
    std::cerr << "berth-shim: " << e.what() << "\n";
    return 1;
  }
}
