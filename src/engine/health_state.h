// Docker's healthchecks as data: the check a container's Config asks for (its own or the
// image's HEALTHCHECK), and the health it has (State.Health), which is stored with the
// container so that it survives a daemon restart.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace berth::engine {

// Config.Healthcheck with dockerd's defaults filled in.
struct HealthCheck {
  std::vector<std::string> test;  // "CMD", args... or "CMD-SHELL", command
  int64_t interval_ns = 30'000'000'000;
  int64_t timeout_ns = 30'000'000'000;
  int64_t start_period_ns = 0;
  int64_t start_interval_ns = 5'000'000'000;
  int retries = 3;

  // The probe's command line in the container: CMD's arguments, or CMD-SHELL's command
  // under the container's Shell (default /bin/sh -c), as dockerd runs them.
  std::vector<std::string> command(const nlohmann::json& config) const;
};

// The check a container runs, or none: no Healthcheck, an empty Test, or Test ["NONE"].
std::optional<HealthCheck> health_check_of(const nlohmann::json& config);

// Docker's health states, as State.Health.Status and `ps --filter health=` name them.
inline constexpr const char* kHealthStarting = "starting";
inline constexpr const char* kHealthHealthy = "healthy";
inline constexpr const char* kHealthUnhealthy = "unhealthy";

struct HealthResult {
  std::string start, end;  // RFC 3339 with nanoseconds
  int exit_code = 0;
  std::string output;
};

struct ContainerHealth {
  std::string status = kHealthStarting;
  int failing_streak = 0;
  std::deque<HealthResult> log;  // the last kHealthLogEntries, oldest first
};

// dockerd keeps five results and the first 4 KiB of each probe's output.
inline constexpr size_t kHealthLogEntries = 5;
inline constexpr size_t kHealthOutputLimit = 4096;

// State.Health as inspect shows it (and as it is stored).
nlohmann::json to_json(const ContainerHealth& h);
ContainerHealth health_from_json(const nlohmann::json& j);

// A Go time.Duration as Go prints it ("30s", "1m30s", "1.5s", "500ms"), for dockerd's
// "Health check exceeded timeout (30s)".
std::string go_duration_string(int64_t ns);

}  // namespace berth::engine
