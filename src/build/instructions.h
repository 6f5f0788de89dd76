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
};

struct StepPlan {
  enum class Kind { kConfig, kRun, kCopy, kWorkdir };
  Kind kind = Kind::kConfig;
  nlohmann::json config;  // the image config after the step
  std::string created_by;
  nlohmann::json run_config;  // RUN: the container's config
  std::string network;
  CopyPlan copy;
};

StepPlan plan_step(Context& ctx);

// ARG name[=default]: its name and default (expanded with `lookup`).
std::pair<std::string, std::optional<std::string>> arg_of(const Instruction& ins,
                                                          const Lookup& lookup);
nlohmann::json env_of(const nlohmann::json& config);
// `<shell> #(nop) <text>`, as Docker records steps that run nothing.
std::string shell_comment(const nlohmann::json& config, const std::string& text);

}  // namespace berth::build
