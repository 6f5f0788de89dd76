// What each instruction does to a stage: the next image config, the history entry, and the
// work (none, a RUN, a COPY/ADD, a WORKDIR) the builder hands to the step runner.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "build/build.h"
#include "build/copy.h"

namespace berth::build {

// Docker's predefined proxy args: usable without an ARG, never reported as unused.
extern const std::set<std::string> kPredefinedArgs;

using ArgMap = std::map<std::string, std::optional<std::string>>;

struct State {
  std::string name;
  ImageRef image;  // id "" while FROM scratch has made nothing
  nlohmann::json config = nlohmann::json::object();
  ArgMap args;           // declared in this stage
  bool cmd_set = false;  // a CMD in this stage: a later ENTRYPOINT keeps it
  std::string author;    // MAINTAINER: the Author of this stage's images from then on
};

struct Context {
  State& st;
  const Instruction& ins;
  char escape;
  const BuildOptions& opts;
  const ArgMap& meta;
  std::set<std::string>& used_args;
  const DockerIgnore& ignore;
};

struct CopyPlan {
  CopyRequest req;
  std::string from_stage;  // --from as written (a stage name, index or image)
  std::string from_image;  // resolved by the builder
  bool link = false;       // --link: a layer of its own, cached whatever came before
};

// RUN --mount=type=cache|bind|tmpfs,... as written, checked; the builder resolves sources.
struct MountPlan {
  enum class Type { kBind, kCache, kTmpfs };
  Type type = Type::kBind;
  std::string target;                      // absolute
  std::string source = "";                 // bind: below the context or `from`'s root
  std::string from;                        // bind: a stage or an image, "" for the context
  std::string id;                          // cache: which cache (the target when not given)
  bool read_write = false;                 // bind: writes allowed (and thrown away)
  bool locked = false;                     // cache: sharing=locked, one step at a time
  uint32_t mode = 0755, uid = 0, gid = 0;  // cache: the new directory's
  int64_t size = 0;                        // tmpfs: bytes, 0 for the kernel's default
  std::string text;                        // as written, for the cache key
};

// Parses one --mount's value for the instruction `ins`, relative to `workdir`.
MountPlan parse_mount(const Instruction& ins, const std::string& value, const std::string& workdir);

// A cache mount's directory below `root` (made with the mount's mode and owner the first
// time), one for each id.
std::string cache_mount_path(const std::string& root, const MountPlan& m);
// `rel` below `root` (resolved as if root were "/") as a path the runtime can mount.
std::string mount_source(int root, const std::string& rel, const std::string& what);

struct StepPlan {
  enum class Kind { kConfig, kRun, kCopy, kWorkdir };
  Kind kind = Kind::kConfig;
  nlohmann::json config;  // the image config after the step
  std::string created_by;
  nlohmann::json run_config;  // RUN: the container's config
  std::string network;
  std::optional<Heredoc> script;  // RUN <<EOF with a `#!` line: mounted at kScriptDir
  std::vector<MountPlan> mounts;  // RUN --mount
  CopyPlan copy;
};

// Where RUN's here-document scripts are mounted (BuildKit's place).
inline constexpr const char* kScriptDir = "/dev/pipes";

StepPlan plan_step(Context& ctx);

// ARG name[=default]: its name and default (expanded with `lookup`).
std::pair<std::string, std::optional<std::string>> arg_of(const Instruction& ins,
                                                          const Lookup& lookup);
nlohmann::json env_of(const nlohmann::json& config);
// `<shell> #(nop) <text>`, as Docker records steps that run nothing.
std::string shell_comment(const nlohmann::json& config, const std::string& text);

}  // namespace berth::build
