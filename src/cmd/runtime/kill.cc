// kill: a signal to the container's process, or with --all to every process in it.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_kill(CLI::App& app) {
  struct Args {
    bool all = false;
    std::string id;
    std::string signal = "SIGTERM";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("kill", "send a signal to a container's process");
  cmd->add_flag("-a,--all", a->all, "signal every process of the container");
  cmd->add_option("id", a->id)->required();
  cmd->add_option("signal", a->signal);
  return {cmd, [a](runtime::Runtime& rt) {
            // Signal 0 checks the process is there and signals nothing, as kill(2) does.
            rt.kill(a->id, a->signal == "0" ? 0 : runtime::parse_signal(a->signal), a->all);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
