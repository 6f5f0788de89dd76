#include "engine/restart_policy.h"

#include <algorithm>

#include "base/error.h"

namespace berth::engine {

RestartPolicy parse_restart_policy(const std::string& name, int max_retries) {
  RestartPolicy p;
  if (name.empty() || name == "no") {
    p.kind = RestartPolicy::Kind::kNo;
  } else if (name == "always") {
    p.kind = RestartPolicy::Kind::kAlways;
  } else if (name == "unless-stopped") {
    p.kind = RestartPolicy::Kind::kUnlessStopped;
  } else if (name == "on-failure") {
    p.kind = RestartPolicy::Kind::kOnFailure;
  } else {
    throw InvalidArgument("invalid restart policy '" + name + "'");
  }
  if (max_retries != 0 && p.kind != RestartPolicy::Kind::kOnFailure)
    throw InvalidArgument("maximum retry count cannot be used with restart policy '" + name + "'");
  if (max_retries < 0) throw InvalidArgument("maximum retry count cannot be negative");
  p.max_retries = max_retries;
  return p;
}

const char* restart_policy_name(const RestartPolicy& p) {
  switch (p.kind) {
    case RestartPolicy::Kind::kAlways:
      return "always";
    case RestartPolicy::Kind::kUnlessStopped:
      return "unless-stopped";
    case RestartPolicy::Kind::kOnFailure:
      return "on-failure";
    case RestartPolicy::Kind::kNo:
      break;
  }
  return "no";
}

bool should_restart(const RestartPolicy& p, const ExitFacts& exit) {
  if (exit.stopped_by_user || exit.auto_remove) return false;
  switch (p.kind) {
    case RestartPolicy::Kind::kAlways:
    case RestartPolicy::Kind::kUnlessStopped:
      return true;
    case RestartPolicy::Kind::kOnFailure:
      return exit.code != 0 && (p.max_retries == 0 || exit.restart_count < p.max_retries);
    case RestartPolicy::Kind::kNo:
      break;
  }
  return false;
}

std::chrono::milliseconds next_backoff(std::chrono::milliseconds previous,
                                       std::chrono::steady_clock::duration ran) {
  using std::chrono::milliseconds;
  if (ran >= std::chrono::seconds(10) || previous.count() == 0) return milliseconds(100);
  return std::min(previous * 2, milliseconds(60000));
}

}  // namespace berth::engine
