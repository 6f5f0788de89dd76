// spec: writes a default config.json into the bundle, refusing to overwrite one.
#include "oci/spec.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

bool unified_cgroup_host() {
  struct statfs st;
  return ::statfs("/sys/fs/cgroup", &st) == 0 && st.f_type == CGROUP2_SUPER_MAGIC;
}

}  // namespace

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
            auto spec = oci::default_spec(a->rootless);
            // As runc: a cgroup namespace only on a unified host. On v1 a config with one
            // breaks what exec sees of its cgroups, and the host's cgroup layout shows anyway.
            if (!unified_cgroup_host())
              std::erase_if(spec.linux->namespaces,
                            [](const oci::Namespace& ns) { return ns.type == "cgroup"; });
            write_file_atomic(path, oci::write_spec(spec).dump(1, '\t'));
            return 0;
          }};
}

}  // namespace berth::runtime_cli
