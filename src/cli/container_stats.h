// `berth stats`: docker's numbers from the daemon's stats answers, and its table.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::cli {

// What docker's stats table shows of one container, from one answer of the stats endpoint.
struct StatsEntry {
  std::string container;  // as the user named it (or the full id when listing them all)
  std::string name;       // the daemon's, with its leading '/'
  std::string id;
  double cpu_percent = 0, memory = 0, memory_limit = 0, memory_percent = 0;
  double net_rx = 0, net_tx = 0, block_read = 0, block_write = 0;
  uint64_t pids = 0;
  bool invalid = false;  // no answer (yet): its numbers show as "--"
};

// The docker CLI's arithmetic on one answer: CPU % against the precpu sample, memory without
// the inactive file cache (total_inactive_file on cgroup v1, inactive_file on v2), bytes
// received and sent over every interface, bytes read and written.
StatsEntry stats_entry(const nlohmann::json& answer, const std::string& container);

// The rows as docker's stats formatter prints them: `format` is "" or "table" (its default
// columns), "table TEMPLATE", "json" or a template; IDs cut to 12 characters when `trunc`.
std::string render_stats(const std::vector<StatsEntry>& entries, const std::string& format,
                         bool trunc);

}  // namespace berth::cli
