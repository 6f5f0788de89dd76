// `create` and `run` flags, declared with docker's names and defaults, and turned into the
// Engine API's create body (Config + HostConfig + NetworkingConfig) as docker's
// cli/command/container/opts.go does.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/error.h"
#include "cli/network_opts.h"
#include "cli/port_spec.h"

namespace berth::cli {

// A flag value docker would refuse; run/create report it with exit status 125.
class FlagError : public Error {
 public:
  using Error::Error;
};

// A value one of pflag's validators refuses; docker reports it with the command's usage.
class FlagValueError : public FlagError {
 public:
  FlagValueError(const std::string& value, const std::string& flag, const std::string& why)
      : FlagError("invalid argument \"" + value + "\" for \"" + flag + "\" flag: " + why) {}
};

struct ContainerOptions {
  bool interactive = false, tty = false, rm = false, init = false, privileged = false;
  bool read_only = false, publish_all = false;
  std::string name, workdir, user, entrypoint, hostname, domainname, stop_signal, restart = "no";
  std::string log_driver, runtime, shm_size, memory, cpus, platform, pull = "missing";
  std::vector<std::string> env, env_file, labels, label_file, log_opts, cap_add, cap_drop;
  std::vector<std::string> ulimits, sysctls, publish, expose, volumes, mounts, attach;
  std::vector<std::string> tmpfs, volumes_from;
  std::string volume_driver;
  int64_t cpu_shares = 0, pids_limit = 0;
  int stop_timeout = 0;
  // --health-*: Go durations ("30s"), checked when the body is made.
  std::string health_cmd, health_interval, health_timeout, health_start_period,
      health_start_interval;
  int health_retries = 0;
  bool no_healthcheck = false;
  NetworkFlags net;
  // Which flags were given at all: docker sends these fields only when they were.
  CLI::Option* entrypoint_opt = nullptr;
  CLI::Option* stop_timeout_opt = nullptr;
  CLI::Option* init_opt = nullptr;
  CLI::Option* pids_opt = nullptr;
};

// Adds a repeatable flag that takes exactly one value per use, as pflag's slices do.
CLI::Option* add_list(CLI::App& app, const std::string& names, std::vector<std::string>& v,
                      const std::string& help, const std::string& type = "list");
void add_container_flags(CLI::App& app, ContainerOptions& o);

// The create body for IMAGE [COMMAND] [ARG...]. Throws FlagError on a value docker refuses.
nlohmann::json create_body(const ContainerOptions& o, const std::string& image,
                           const std::vector<std::string>& cmd);

// Helpers shared with update, exec and their tests.
nlohmann::json parse_restart_policy(const std::string& policy);
int64_t ram_in_bytes(const std::string& s);         // "512m" -> 536870912 (go-units RAMInBytes)
int64_t nano_cpus(const std::string& s);            // "1.5" -> 1500000000
nlohmann::json parse_ulimit(const std::string& s);  // "nofile=1024:2048"
// "-e KEY" takes KEY's value from the client's environment, as docker does.
std::string env_value(const std::string& kv);
// Lines of an --env-file or --label-file: blanks and # comments skipped.
std::vector<std::string> read_kv_file(const std::string& path, bool env);
// --mount CSV into an API Mount object.
nlohmann::json parse_mount(const std::string& spec);

}  // namespace berth::cli
