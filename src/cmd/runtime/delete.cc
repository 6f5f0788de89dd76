// delete: removes a stopped container, or with --force a running one.
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_delete(CLI::App& app) {
  struct Args {
    bool force = false;
    std::string id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("delete", "delete a container");
  cmd->add_flag("-f,--force", a->force, "kill and delete a running container");
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            rt.remove(a->id, a->force);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
