// A container as the engine keeps it: Docker's Config and HostConfig as the client sent them
// (merged with the image's config at create), and its state.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "engine/container_spec.h"
#include "engine/health_state.h"

namespace berth::engine {

enum class State { kCreated, kRunning, kPaused, kRestarting, kRemoving, kExited, kDead };
const char* state_name(State s);
State parse_state(const std::string& s);

struct ContainerState {
  State status = State::kCreated;
  int pid = 0;
  int exit_code = 0;
  std::string error;
  std::string started_at = "0001-01-01T00:00:00Z";
  std::string finished_at = "0001-01-01T00:00:00Z";
  bool oom_killed = false;
  // Set by `stop`/`kill` from a user: restart policies leave such a container alone.
  bool stopped_by_user = false;
  int restart_count = 0;
  // State.Health: set while the container has a healthcheck; written by the health monitor only.
  std::optional<ContainerHealth> health;
};

struct Container {
  std::string id;
  std::string name;  // without the leading '/'
  std::string created;
  std::string image_id;
  nlohmann::json config;       // Docker's container Config, image defaults applied
  nlohmann::json host_config;  // Docker's HostConfig
  ContainerSpec spec;          // what of them the engine applies, typed
  std::string path;            // the command: Path and Args as inspect shows them
  std::vector<std::string> args;
  ContainerState state;
  std::string log_path;
  std::string runtime = "berth";

  bool tty() const { return config.value("Tty", false); }
  bool running() const { return state.status == State::kRunning || state.status == State::kPaused; }

  nlohmann::json to_json() const;
  static Container from_json(const nlohmann::json& j);
};

}  // namespace berth::engine
