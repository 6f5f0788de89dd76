// `docker top`: the host's ps, run with the caller's options and narrowed to the container's
// processes, its table parsed as dockerd parses it.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::engine {

// Refuses what dockerd refuses before it runs anything: a column other than pid renamed
// "PID..." ("-o user=PID"), which would make another column pass for the pid.
void check_ps_args(const std::string& ps_args);

// Runs ps with `ps_args` ("-ef" when empty) for the processes in `pids` and answers
// {"Titles": [...], "Processes": [[...], ...]}.
nlohmann::json ps_top(const std::vector<pid_t>& pids, const std::string& ps_args);

// ps's table, rows kept only for the given pids (and the thread rows that follow one of
// them, whose PID column is "-", as `ps -eLf`'s "m" options print them).
nlohmann::json parse_ps_table(const std::string& out, const std::vector<pid_t>& pids);

}  // namespace berth::engine
