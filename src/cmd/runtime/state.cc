// state: the container's state as JSON, as runc prints it.
#include <iostream>
#include <nlohmann/json.hpp>

#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_state(CLI::App& app) {
  auto id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("state", "print the state of a container");
  cmd->add_option("id", *id)->required();
  return {cmd, [id](runtime::Runtime& rt) {
            std::cout << rt.state(*id).to_json().dump(2) << "\n";
            return 0;
          }};
}

}  // namespace berth::runtime_cli
