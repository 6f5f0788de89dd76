// The memory controller: limits, reservation, swap, OOM killer, and its usage statistics.
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

void apply_v1(const std::string& dir, const oci::Resources& r) {
  auto m = r.memory;
  auto val = [](int64_t v) { return std::to_string(v); };
  // Memory made unlimited with no word on swap lifts memory+swap too, first, as runc does:
  // memory alone above the memsw limit is EINVAL.
  if (m.limit && *m.limit == -1 && (!m.swap || *m.swap == 0) &&
      path_exists(path_join(dir, "memory.memsw.limit_in_bytes")))
    m.swap = -1;
  bool has_limit = m.limit && *m.limit != 0;
  bool has_swap = m.swap && *m.swap != 0;
  if (has_swap && !path_exists(path_join(dir, "memory.memsw.limit_in_bytes")))
    throw Error("cgroup: memory swap limit set, but this kernel does not account swap");
  if (has_limit && has_swap) {
    // The kernel wants memory <= memory+swap at every step: order the two writes.
    int64_t cur_swap = std::stoll(read_control(dir, "memory.memsw.limit_in_bytes"));
    if (*m.swap == -1 || (cur_swap != -1 && *m.swap > cur_swap)) {
      write_control(dir, "memory.memsw.limit_in_bytes", val(*m.swap));
      write_control(dir, "memory.limit_in_bytes", val(*m.limit));
    } else {
      write_control(dir, "memory.limit_in_bytes", val(*m.limit));
      write_control(dir, "memory.memsw.limit_in_bytes", val(*m.swap));
    }
  } else if (has_limit) {
    write_control(dir, "memory.limit_in_bytes", val(*m.limit));
  } else if (has_swap) {
    write_control(dir, "memory.memsw.limit_in_bytes", val(*m.swap));
  }
  if (m.reservation && *m.reservation != 0)
    write_control(dir, "memory.soft_limit_in_bytes", val(*m.reservation));
  if (m.swappiness && *m.swappiness <= 100)
    write_control(dir, "memory.swappiness", std::to_string(*m.swappiness));
  if (m.disable_oom_killer && *m.disable_oom_killer) write_control(dir, "memory.oom_control", "1");
}

void stats_v1(const std::string& dir, nlohmann::json& out) {
  auto entry = [&](const std::string& prefix) {
    return nlohmann::json{{"limit", read_number(dir, prefix + "limit_in_bytes")},
                          {"usage", read_number(dir, prefix + "usage_in_bytes")},
                          {"max", read_number(dir, prefix + "max_usage_in_bytes")},
                          {"failcnt", read_number(dir, prefix + "failcnt")}};
  };
  out["memory"] = {
      {"usage", entry("memory.")},
      {"swap", entry("memory.memsw.")},
      {"kernel", entry("memory.kmem.")},
      {"raw", parse_flat_keyed(read_file_if_exists(path_join(dir, "memory.stat")).value_or(""))}};
}

// -1 is OCI's "unlimited", which v2 spells "max".
std::string limit_v2(int64_t v) {
  return v == -1 ? "max" : std::to_string(v);
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  const auto& m = r.memory;
  if (m.limit && *m.limit != 0) write_control(dir, "memory.max", limit_v2(*m.limit));
  if (m.reservation && *m.reservation != 0)
    write_control(dir, "memory.low", limit_v2(*m.reservation));
  if (m.swap && *m.swap != 0) {
    // OCI's swap is memory+swap; memory.swap.max is swap alone.
    std::string value = "max";
    if (*m.swap != -1) {
      if (!m.limit || *m.limit <= 0)
        throw Error("cgroup: memory.swap needs memory.limit on cgroup v2");
      if (*m.swap < *m.limit)
        throw Error("cgroup: memory.swap (" + std::to_string(*m.swap) +
                    ") is below memory.limit (" + std::to_string(*m.limit) + ")");
      value = std::to_string(*m.swap - *m.limit);
    }
    write_control(dir, "memory.swap.max", value);
  }
  if (m.disable_oom_killer && *m.disable_oom_killer)
    throw Error("cgroup: disableOOMKiller is not available on cgroup v2");
}

void stats_v2(const std::string& dir, nlohmann::json& out) {
  out["memory"] = {
      {"usage",
       {{"usage", read_number(dir, "memory.current")},
        {"limit", read_number(dir, "memory.max")},
        {"max", read_number(dir, "memory.peak")}}},
      {"swap",
       {{"usage", read_number(dir, "memory.swap.current")},
        {"limit", read_number(dir, "memory.swap.max")}}},
      {"raw", parse_flat_keyed(read_file_if_exists(path_join(dir, "memory.stat")).value_or(""))}};
}

}  // namespace

uint64_t oom_kill_count(const std::string& memory_dir, bool v2) {
  auto text =
      read_file_if_exists(path_join(memory_dir, v2 ? "memory.events" : "memory.oom_control"));
  auto fields = parse_flat_keyed(text.value_or(""));
  return fields.contains("oom_kill") ? fields["oom_kill"].get<uint64_t>() : 0;
}

const Controller kMemoryV1{"memory", apply_v1, stats_v1};
const Controller kMemoryV2{"memory", apply_v2, stats_v2};

}  // namespace berth::runtime
