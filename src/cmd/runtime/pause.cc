// pause: freezes every process of the container.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_pause(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("pause", "freeze a container's processes");
  cmd->add_option("id", *id)->required();
  return {cmd, [id](runtime::Runtime& rt) {
            rt.pause(*id);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
