// run: create and start in one; in the foreground its exit status is the container's.
#include "base/error.h"
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_run(CLI::App& app) {
  struct Args {
    runtime::CreateOptions opts;
    bool detach = false;
    bool keep = false;
    std::string id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("run", "create and start a container");
  add_create_flags(*cmd, a->opts);
  cmd->add_flag("-d,--detach", a->detach, "detach from the container's process");
  cmd->add_flag("--keep", a->keep, "do not delete the container after it exits");
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            if (a->keep && a->detach) throw Error("--detach and --keep cannot both be used");
            return rt.run(a->id, a->opts, a->detach, a->keep);
          }};
}

}  // namespace berth::runtime_cli
