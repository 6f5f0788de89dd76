// spec: writes a default config.json into the bundle, refusing to overwrite one.
#include "oci/spec.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_spec(CLI::App& app) {
  struct Args {
    bool rootless = false;
    std::string bundle = ".";
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("spec", "write a default config.json");
  cmd->add_flag("--rootless", a->rootless, "a spec for a rootless container");
  cmd->add_option("-b,--bundle", a->bundle, "where to write config.json");
  return {cmd, [a](runtime::Runtime&) {
            auto path = path_join(a->bundle, "config.json");
            if (path_exists(path)) throw Error("File " + path + " exists. Remove it first");
            write_file_atomic(path, oci::default_spec(a->rootless).dump(1, '\t'));
            return 0;
          }};
}

}  // namespace berth::runtime_cli
