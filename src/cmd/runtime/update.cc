// update: new resource limits for a running container, from a resources JSON and/or flags
// (flags win).
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"
#include "oci/spec.h"

namespace berth::runtime_cli {
namespace {

// "512m", "1g", "1024" -> bytes; "-1" stays -1 (unlimited).
int64_t parse_bytes(const std::string& s) {
  if (s == "-1") return -1;
  size_t used = 0;
  double v;
  try {
    v = std::stod(s, &used);
  } catch (const std::exception&) {
    throw Error("invalid size: " + s);
  }
  std::string unit = s.substr(used);
  for (auto& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!unit.empty() && unit.back() == 'b') unit.pop_back();
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1}, {"k", 1024.0}, {"m", 1048576.0}, {"g", 1073741824.0}, {"t", 1099511627776.0}};
  for (auto& [u, mul] : kUnits)
    if (unit == u) return static_cast<int64_t>(v * mul);
  throw Error("invalid size: " + s);
}

int64_t parse_number(const std::string& s, const char* flag) {
  try {
    size_t used = 0;
    int64_t v = std::stoll(s, &used);
    if (used != s.size()) throw std::invalid_argument(s);
    return v;
  } catch (const std::exception&) {
    throw Error(std::string("invalid value for ") + flag + ": " + s);
  }
}

}  // namespace

Verb add_update(CLI::App& app) {
  // Strings, not numbers: an empty one is a flag not given, and sizes take units.
  struct Args {
    std::string resources_file, memory, reservation, swap, cpu_shares, cpu_quota, cpu_period,
        cpu_rt_period, cpu_rt_runtime, cpuset_cpus, cpuset_mems, pids_limit, blkio_weight, id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("update", "change a container's resource limits");
  cmd->add_option("-r,--resources", a->resources_file, "resources JSON file, - for stdin");
  cmd->add_option("--memory", a->memory, "memory limit");
  cmd->add_option("--memory-reservation", a->reservation, "memory reservation");
  cmd->add_option("--memory-swap", a->swap, "memory plus swap limit");
  // runc spells it --cpu-share; --cpu-shares as Docker's is kept too.
  cmd->add_option("--cpu-share,--cpu-shares", a->cpu_shares, "CPU shares (relative weight)");
  cmd->add_option("--cpu-rt-period", a->cpu_rt_period,
                  "CPU realtime period to be used for hardcapping (in usecs)");
  cmd->add_option("--cpu-rt-runtime", a->cpu_rt_runtime, "CPU realtime hardcap limit (in usecs)");
  cmd->add_option("--cpu-quota", a->cpu_quota, "CFS quota in microseconds");
  cmd->add_option("--cpu-period", a->cpu_period, "CFS period in microseconds");
  cmd->add_option("--cpuset-cpus", a->cpuset_cpus, "CPUs allowed");
  cmd->add_option("--cpuset-mems", a->cpuset_mems, "memory nodes allowed");
  cmd->add_option("--pids-limit", a->pids_limit, "maximum number of tasks");
  cmd->add_option("--blkio-weight", a->blkio_weight, "block IO weight (10-1000)");
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            oci::Resources r;
            if (!a->resources_file.empty()) {
              std::string text =
                  a->resources_file == "-" ? read_fd(STDIN_FILENO) : read_file(a->resources_file);
              r = oci::parse_resources(nlohmann::json::parse(text));
            }
            if (!a->memory.empty()) r.memory.limit = parse_bytes(a->memory);
            if (!a->reservation.empty()) r.memory.reservation = parse_bytes(a->reservation);
            if (!a->swap.empty()) r.memory.swap = parse_bytes(a->swap);
            if (!a->cpu_shares.empty()) r.cpu.shares = parse_number(a->cpu_shares, "--cpu-share");
            if (!a->cpu_quota.empty()) r.cpu.quota = parse_number(a->cpu_quota, "--cpu-quota");
            if (!a->cpu_period.empty()) r.cpu.period = parse_number(a->cpu_period, "--cpu-period");
            if (!a->cpu_rt_period.empty())
              r.cpu.realtime_period =
                  static_cast<uint64_t>(parse_number(a->cpu_rt_period, "--cpu-rt-period"));
            if (!a->cpu_rt_runtime.empty())
              r.cpu.realtime_runtime = parse_number(a->cpu_rt_runtime, "--cpu-rt-runtime");
            if (!a->cpuset_cpus.empty()) r.cpu.cpus = a->cpuset_cpus;
            if (!a->cpuset_mems.empty()) r.cpu.mems = a->cpuset_mems;
            if (!a->pids_limit.empty()) r.pids_limit = parse_number(a->pids_limit, "--pids-limit");
            if (!a->blkio_weight.empty())
              r.block_io.weight =
                  static_cast<uint16_t>(parse_number(a->blkio_weight, "--blkio-weight"));
            rt.update(a->id, r);
            return 0;
          }};
}

}  // namespace berth::runtime_cli
