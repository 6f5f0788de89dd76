// The cpu controller (shares, CFS quota and period, realtime) and its accounting: cpuacct
// beside it on v1, cpu.stat on v2.
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

void apply_v1(const std::string& dir, const oci::Resources& r) {
  const auto& c = r.cpu;
  if (c.shares && *c.shares) write_control(dir, "cpu.shares", std::to_string(*c.shares));
  if (c.period && *c.period) write_control(dir, "cpu.cfs_period_us", std::to_string(*c.period));
  if (c.quota && *c.quota) write_control(dir, "cpu.cfs_quota_us", std::to_string(*c.quota));
  if (c.realtime_period && *c.realtime_period)
    write_control(dir, "cpu.rt_period_us", std::to_string(*c.realtime_period));
  if (c.realtime_runtime && *c.realtime_runtime)
    write_control(dir, "cpu.rt_runtime_us", std::to_string(*c.realtime_runtime));
}

void stats_v1(const std::string& dir, nlohmann::json& out) {
  auto st = parse_flat_keyed(read_file_if_exists(path_join(dir, "cpu.stat")).value_or(""));
  out["cpu"]["throttling"] = {{"periods", st.value("nr_periods", uint64_t{0})},
                              {"throttledPeriods", st.value("nr_throttled", uint64_t{0})},
                              {"throttledTime", st.value("throttled_time", uint64_t{0})}};
}

void cpuacct_stats_v1(const std::string& dir, nlohmann::json& out) {
  nlohmann::json percpu = nlohmann::json::array();
  if (auto pc = read_file_if_exists(path_join(dir, "cpuacct.usage_percpu")))
    for (auto& v : split(trim(*pc), ' '))
      if (!v.empty()) percpu.push_back(std::stoull(v));
  auto st = parse_flat_keyed(read_file_if_exists(path_join(dir, "cpuacct.stat")).value_or(""));
  // cpuacct.stat counts USER_HZ ticks; runc reports nanoseconds.
  uint64_t tick_ns = 1000000000ull / static_cast<uint64_t>(::sysconf(_SC_CLK_TCK));
  out["cpu"]["usage"] = {{"total", read_number(dir, "cpuacct.usage")},
                         {"percpu", percpu},
                         {"kernel", st.value("system", uint64_t{0}) * tick_ns},
                         {"user", st.value("user", uint64_t{0}) * tick_ns}};
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  const auto& c = r.cpu;
  if (c.shares && *c.shares)
    write_control(dir, "cpu.weight", std::to_string(cpu_shares_to_weight(*c.shares)));
  if ((c.quota && *c.quota) || (c.period && *c.period)) {
    // A quota alone keeps the period the cgroup has (runc's rule too): `update --cpu-quota`
    // must not reset a period set earlier.
    std::string value = c.quota && *c.quota > 0 ? std::to_string(*c.quota) : "max";
    if (c.period && *c.period) value += " " + std::to_string(*c.period);
    write_control(dir, "cpu.max", value);
  }
}

void stats_v2(const std::string& dir, nlohmann::json& out) {
  auto st = parse_flat_keyed(read_file_if_exists(path_join(dir, "cpu.stat")).value_or(""));
  // v2 counts microseconds; runc reports nanoseconds.
  out["cpu"]["usage"] = {{"total", st.value("usage_usec", uint64_t{0}) * 1000},
                         {"kernel", st.value("system_usec", uint64_t{0}) * 1000},
                         {"user", st.value("user_usec", uint64_t{0}) * 1000}};
  out["cpu"]["throttling"] = {{"periods", st.value("nr_periods", uint64_t{0})},
                              {"throttledPeriods", st.value("nr_throttled", uint64_t{0})},
                              {"throttledTime", st.value("throttled_usec", uint64_t{0}) * 1000}};
}

}  // namespace

const Controller kCpuV1{"cpu", apply_v1, stats_v1};
const Controller kCpuacctV1{"cpuacct", nullptr, cpuacct_stats_v1};
const Controller kCpuV2{"cpu", apply_v2, stats_v2};

}  // namespace berth::runtime
