// start: lets a created container's process run its program.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_start(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("start", "run the user process of a created container");
  cmd->add_option("id", *id)->required();
  return {cmd, [id](runtime::Runtime& rt) {
            rt.start(*id);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
