// resume: thaws a paused container.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_resume(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("resume", "thaw a paused container");
  cmd->add_option("id", *id)->required();
  return {cmd, [id](runtime::Runtime& rt) {
            rt.resume(*id);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
