// Docker's restart policies as pure functions of what happened: whether an exited container
// starts again, and after how long. No clock inside: the caller says how long it ran.
#pragma once

#include <chrono>
#include <string>

namespace berth::engine {

struct RestartPolicy {
  enum class Kind { kNo, kAlways, kUnlessStopped, kOnFailure };
  Kind kind = Kind::kNo;
  int max_retries = 0;  // on-failure only; 0: no bound
};

// From HostConfig.RestartPolicy's Name and MaximumRetryCount, with dockerd's words for a bad
// one (InvalidArgument).
RestartPolicy parse_restart_policy(const std::string& name, int max_retries);
// The name Docker shows ("" for no policy given stays "no").
const char* restart_policy_name(const RestartPolicy& p);

struct ExitFacts {
  int code = 0;
  bool stopped_by_user = false;  // stop or kill from a user: policies leave it alone
  bool auto_remove = false;      // --rm: removed, never restarted
  int restart_count = 0;         // restarts so far
};

bool should_restart(const RestartPolicy& p, const ExitFacts& exit);

// Docker's backoff before a restart: 100 ms, doubling up to a minute, back to 100 ms once a
// run lasted ten seconds or more.
std::chrono::milliseconds next_backoff(std::chrono::milliseconds previous,
                                       std::chrono::steady_clock::duration ran);

}  // namespace berth::engine
