// How commands plug into the CLI: each concern's file registers its commands (with all their
// docker aliases) into a Registry; app.cc parses, validates arity and runs the chosen one.
#pragma once

#include <CLI/CLI.hpp>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <limits>
#include <list>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client.h"

namespace berth::cli {

// The commands speak to the daemon through the client library alone.
using client::ApiClient;
using client::ApiError;
using client::filters_json;
using client::hijack;
using client::HijackedConn;
using client::HttpRequest;
using client::HttpResponse;
using client::JsonSplitter;
using client::path_escape;
using client::Query;
using client::StdWriter;

struct Globals {
  std::string host;  // as given by -H; resolved by Context
  std::string config_dir;
  std::string log_level = "info";
  bool debug = false;
};

// What every command may need; the daemon connection and config are made on first use so
// that --help and client-only output work without a daemon.
class Context {
 public:
  Globals globals;

  ApiClient& api();
  const nlohmann::json& config();
  std::string host();

 private:
  std::unique_ptr<ApiClient> api_;
  std::unique_ptr<nlohmann::json> config_;
};

// A command's body; returns the exit status.
using Run = std::function<int()>;
using Args = std::vector<std::string>;

struct CommandSpec {
  // Every path the command answers to, the canonical one first: {"image ls", "images"}.
  std::vector<std::string> paths;
  std::string usage;  // after the command path: "[OPTIONS] [REPOSITORY[:TAG]]"
  std::string summary;
  size_t min_args = 0;
  size_t max_args = std::numeric_limits<size_t>::max();
  // false: flags end at the first argument, which starts a command line of its own
  // (run IMAGE ls -l), as with docker's SetInterspersed(false).
  bool interspersed = true;
};

// Declares flags on the command's CLI::App and returns what runs it. Called once per path,
// so flag storage must be fresh per call.
using Setup = std::function<Run(CLI::App& app, const Args& args)>;

class Registry {
 public:
  struct Leaf {
    CLI::App* app = nullptr;
    std::string path;  // "image ls"
    const CommandSpec* spec = nullptr;
    Args args;
    bool help = false;
    Setup setup;
    Run run;  // set once the leaf is prepared
  };
  struct Group {
    CLI::App* app = nullptr;
    std::string summary;
    bool help = false;
  };

  Registry(CLI::App& root, Context& ctx) : root_(root), ctx_(ctx) {}

  // A management command such as "image" or "system" that holds subcommands.
  void group(const std::string& name, const std::string& summary);
  // Registers the command's paths; its flags are declared only when it is prepared.
  void add(CommandSpec spec, const Setup& setup);
  // Declares the leaf's flags: only the command being run (or asked about) pays for its
  // flags, not all of them at every start.
  void prepare(Leaf& leaf);

  Context& context() { return ctx_; }
  CLI::App& root() { return root_; }
  const std::list<Leaf>& leaves() const { return leaves_; }
  std::list<Leaf>& leaves() { return leaves_; }
  const std::list<Group>& groups() const { return groups_; }
  std::list<Group>& groups() { return groups_; }
  const Leaf* find_leaf(const CLI::App* app) const;
  Leaf* find_leaf(const CLI::App* app);
  const Leaf* find_path(const std::string& path) const;
  Leaf* find_path(const std::string& path);

 private:
  CLI::App& root_;
  Context& ctx_;
  std::list<CommandSpec> specs_;
  std::list<Leaf> leaves_;
  std::list<Group> groups_;
};

// Each concern registers its commands here.
void register_image_list(Registry& r);
void register_image_commands(Registry& r);
void register_image_transfer(Registry& r);
void register_system_commands(Registry& r);
void register_container_run(Registry& r);
void register_container_commands(Registry& r);
void register_container_list(Registry& r);
void register_container_logs(Registry& r);
void register_container_cp(Registry& r);
void register_container_stats(Registry& r);
void register_network_commands(Registry& r);
void register_volume_commands(Registry& r);
void register_build_command(Registry& r);

// docker's inspect: the objects found as a JSON array (or through -f), then one error line
// per name not found; `type` is "container", "image", "network", "volume" or "" for any.
int inspect_objects(Context& ctx, const Args& names, const std::string& format,
                    const std::string& type, bool size);
// Adds docker's --format flag with its help text.
void add_format_flag(CLI::App& app, std::string& target, const std::string& extra_help = "");
// A prune command of docker's simple kind (containers, networks).
struct PruneCommand {
  std::string path;         // "container prune"
  std::string summary;      // its one-line help
  std::string warning;      // asked before pruning, unless -f
  std::string endpoint;     // "/containers/prune"
  std::string deleted_key;  // "ContainersDeleted"
  std::string heading;      // "Deleted Containers:"
  bool reports_space = false;
};
void add_prune_command(Registry& r, const PruneCommand& p);
// Writes all of `s` to stdout.
void print_out(const std::string& s);
bool stdout_is_terminal();
// Prints docker's "Are you sure you want to continue? [y/N]" after `warning`; true on y/Y.
bool confirm(const std::string& warning);

}  // namespace berth::cli
