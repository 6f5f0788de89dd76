// Container stats read from fake cgroup v1 and v2 trees and a fake /proc, the JSON answer held
// field by field against the Engine API spec, and the docker CLI's arithmetic on it.
#include "engine/container_stats.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <limits>

#include "api/stats_json.h"
#include "base/fs.h"
#include "cli/container_stats.h"
#include "support/temp_dir.h"

namespace berth::engine {
namespace {

using nlohmann::json;

constexpr const char* kId = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

void put(const std::string& path, const std::string& text) {
  mkdir_p(path.substr(0, path.rfind('/')));
  write_file(path, text, O_CREAT | O_TRUNC);
}

// /proc/stat with two CPUs, /proc/meminfo with 2 GiB, and pid 42's network namespace.
void fake_proc(const std::string& proc) {
  put(proc + "/stat",
      "cpu  100 2 30 1000 4 5 6 7 0 0\n"
      "cpu0 50 1 15 500 2 2 3 3 0 0\n"
      "cpu1 50 1 15 500 2 3 3 4 0 0\n"
      "intr 12345\nctxt 999\n");
  put(proc + "/meminfo", "MemTotal:        2097152 kB\nMemFree:         1000000 kB\n");
  put(proc + "/42/net/dev",
      "Inter-|   Receive                                                |  Transmit\n"
      " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
      "drop fifo colls carrier compressed\n"
      "    lo:     500       5    0    0    0     0          0         0      500       5    0 "
      "   0    0     0       0          0\n"
      "  eth0:    5338      36    1    2    0     0          0         0      648       8    3 "
      "   4    0     0       0          0\n");
}

// A v1 host as this machine's: one hierarchy per controller, found through mountinfo.
StatsHost fake_v1(const test::TempDir& dir, bool cfq) {
  std::string cg = dir / "cgroup", proc = dir / "proc";
  fake_proc(proc);
  std::string mountinfo;
  int n = 30;
  for (const char* c : {"cpu", "cpuacct", "memory", "blkio", "pids"})
    mountinfo += std::to_string(n++) + " 22 0:27 / " + cg + "/" + c +
                 " rw,relatime - cgroup cgroup rw," + c + "\n";
  mountinfo += "40 22 0:37 / " + cg + "/unified rw,relatime - cgroup2 cgroup2 rw\n";
  put(proc + "/self/mountinfo", mountinfo);
  std::string d = std::string("/berth/") + kId;
  put(cg + "/cpuacct" + d + "/cpuacct.usage", "29912000\n");
  put(cg + "/cpuacct" + d + "/cpuacct.usage_percpu", "20000000 9912000 \n");
  put(cg + "/cpuacct" + d + "/cpuacct.stat", "user 3\nsystem 2\n");
  put(cg + "/cpu" + d + "/cpu.stat", "nr_periods 10\nnr_throttled 3\nthrottled_time 4500\n");
  put(cg + "/memory" + d + "/memory.usage_in_bytes", "8388608\n");
  put(cg + "/memory" + d + "/memory.max_usage_in_bytes", "9437184\n");
  put(cg + "/memory" + d + "/memory.failcnt", "7\n");
  put(cg + "/memory" + d + "/memory.limit_in_bytes", "9223372036854771712\n");
  put(cg + "/memory" + d + "/memory.stat",
      "cache 4096\nrss 8192\nshmem 0\nmapped_file 0\ninactive_file 1024\n"
      "hierarchical_memory_limit 9223372036854771712\ntotal_cache 4096\ntotal_rss 8192\n"
      "total_inactive_file 2048\n");
  if (cfq) {
    put(cg + "/blkio" + d + "/blkio.io_serviced_recursive", "8:0 Read 3\n8:0 Write 4\nTotal 7\n");
    put(cg + "/blkio" + d + "/blkio.io_service_bytes_recursive",
        "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:0 Async 12288\n8:0 Total 12288\nTotal "
        "12288\n");
    put(cg + "/blkio" + d + "/blkio.sectors_recursive", "8:0 24\n");
  }
  put(cg + "/blkio" + d + "/blkio.throttle.io_service_bytes",
      "253:1 Read 100\n253:1 Write 200\n253:1 Total 300\nTotal 300\n");
  put(cg + "/blkio" + d + "/blkio.throttle.io_serviced", "253:1 Read 1\n253:1 Write 2\nTotal 3\n");
  put(cg + "/pids" + d + "/pids.current", "5\n");
  put(cg + "/pids" + d + "/pids.max", "max\n");
  return StatsHost::detect(cg, proc);
}

StatsHost fake_v2(const test::TempDir& dir) {
  std::string cg = dir / "cgroup", proc = dir / "proc";
  fake_proc(proc);
  put(cg + "/cgroup.controllers", "cpuset cpu io memory pids\n");
  std::string d = cg + "/berth/" + kId;
  put(d + "/cpu.stat",
      "usage_usec 29912\nuser_usec 7918\nsystem_usec 21994\nnr_periods 10\nnr_throttled 3\n"
      "throttled_usec 45\n");
  put(d + "/memory.current", "8388608\n");
  put(d + "/memory.max", "67108864\n");
  put(d + "/memory.events", "low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n");
  put(d + "/memory.stat", "anon 1572864\nfile 7626752\ninactive_file 2510848\npgfault 2042\n");
  put(d + "/io.stat", "254:0 rbytes=7593984 wbytes=100 rios=3 wios=1 dbytes=0 dios=0\n");
  put(d + "/pids.current", "5\n");
  put(d + "/pids.max", "max\n");
  return StatsHost::detect(cg, proc);
}

uint64_t stat_of(const MemoryStats& m, const std::string& key) {
  for (auto& [k, v] : m.stats)
    if (k == key) return v;
  ADD_FAILURE() << "no memory stat " << key;
  return 0;
}

TEST(ContainerStats, FindsV1HierarchiesInMountinfo) {
  auto mounts = cgroup_v1_mounts(
      "31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct\n"
      "34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory\n"
      "39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,name=systemd\n"
      "40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n");
  EXPECT_EQ(mounts["cpu"], "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts["cpuacct"], "/sys/fs/cgroup/cpu,cpuacct");
  EXPECT_EQ(mounts["memory"], "/sys/fs/cgroup/memory");
  EXPECT_EQ(mounts.count("name=systemd"), 0u);
  EXPECT_EQ(mounts.count("xattr"), 1u) << "options are kept; nobody asks for them";
  EXPECT_EQ(mounts.size(), 4u);
}

TEST(ContainerStats, ReadsCgroupV1) {
  test::TempDir dir("stats-v1");
  StatsHost host = fake_v1(dir, false);
  ASSERT_FALSE(host.v2);
  EXPECT_EQ(host.machine_memory, 2147483648u);
  auto s = read_stats(host, std::string("/berth/") + kId, 42);
  EXPECT_GT(s.read, 0);
  EXPECT_EQ(s.cpu.total_usage, 29912000u);
  EXPECT_EQ(s.cpu.percpu_usage, (std::vector<uint64_t>{20000000, 9912000}));
  EXPECT_EQ(s.cpu.usage_in_usermode, 30000000u) << "3 ticks of USER_HZ";
  EXPECT_EQ(s.cpu.usage_in_kernelmode, 20000000u);
  EXPECT_EQ(s.cpu.throttling_periods, 10u);
  EXPECT_EQ(s.cpu.throttled_periods, 3u);
  EXPECT_EQ(s.cpu.throttled_time, 4500u);
  EXPECT_EQ(s.cpu.system_cpu_usage, uint64_t{100 + 2 + 30 + 1000 + 4 + 5 + 6} * 10000000)
      << "user..softirq, steal left out, in ns";
  EXPECT_EQ(s.cpu.online_cpus, 2u);
  EXPECT_EQ(s.memory.usage, 8388608u);
  EXPECT_EQ(s.memory.max_usage, 9437184u);
  EXPECT_EQ(s.memory.failcnt, 7u);
  EXPECT_EQ(s.memory.limit, 2147483648u) << "unlimited shows the machine's memory";
  EXPECT_EQ(s.memory.stats.size(), 32u);
  EXPECT_EQ(stat_of(s.memory, "cache"), 4096u);
  EXPECT_EQ(stat_of(s.memory, "total_inactive_file"), 2048u);
  EXPECT_EQ(stat_of(s.memory, "writeback"), 0u) << "missing keys are zero, as dockerd's";
  // No CFQ files: the throttle layer's counters, and every other list empty.
  ASSERT_TRUE(s.blkio.service_bytes);
  ASSERT_EQ(s.blkio.service_bytes->size(), 3u);
  EXPECT_EQ((*s.blkio.service_bytes)[0].major, 253u);
  EXPECT_EQ((*s.blkio.service_bytes)[0].minor, 1u);
  EXPECT_EQ((*s.blkio.service_bytes)[0].op, "Read");
  EXPECT_EQ((*s.blkio.service_bytes)[1].value, 200u);
  ASSERT_TRUE(s.blkio.serviced);
  EXPECT_EQ(s.blkio.serviced->size(), 2u);
  ASSERT_TRUE(s.blkio.sectors);
  EXPECT_TRUE(s.blkio.sectors->empty());
  EXPECT_EQ(s.pids_current, 5u);
  EXPECT_EQ(s.pids_limit, 0u) << "v1's max is no limit";
  ASSERT_EQ(s.networks.size(), 1u) << "loopback is left out";
  auto& eth0 = s.networks.at("eth0");
  EXPECT_EQ(eth0.rx_bytes, 5338u);
  EXPECT_EQ(eth0.rx_packets, 36u);
  EXPECT_EQ(eth0.rx_errors, 1u);
  EXPECT_EQ(eth0.rx_dropped, 2u);
  EXPECT_EQ(eth0.tx_bytes, 648u);
  EXPECT_EQ(eth0.tx_packets, 8u);
  EXPECT_EQ(eth0.tx_errors, 3u);
  EXPECT_EQ(eth0.tx_dropped, 4u);
}

TEST(ContainerStats, PrefersCfqBlkioFilesOnV1) {
  test::TempDir dir("stats-cfq");
  auto s = read_stats(fake_v1(dir, true), std::string("/berth/") + kId, 0);
  ASSERT_TRUE(s.blkio.service_bytes);
  ASSERT_EQ(s.blkio.service_bytes->size(), 5u) << "the Total line of a device stays";
  EXPECT_EQ((*s.blkio.service_bytes)[3].op, "Async");
  ASSERT_EQ(s.blkio.sectors->size(), 1u);
  EXPECT_EQ((*s.blkio.sectors)[0].op, "");
  EXPECT_EQ((*s.blkio.sectors)[0].value, 24u);
  EXPECT_TRUE(s.networks.empty()) << "no pid, no networks";
}

TEST(ContainerStats, ReadsCgroupV2) {
  test::TempDir dir("stats-v2");
  StatsHost host = fake_v2(dir);
  ASSERT_TRUE(host.v2);
  auto s = read_stats(host, std::string("/berth/") + kId, 42);
  EXPECT_EQ(s.cpu.total_usage, 29912000u);
  EXPECT_EQ(s.cpu.usage_in_usermode, 7918000u);
  EXPECT_EQ(s.cpu.usage_in_kernelmode, 21994000u);
  EXPECT_TRUE(s.cpu.percpu_usage.empty());
  EXPECT_EQ(s.cpu.throttled_time, 45000u);
  EXPECT_EQ(s.cpu.online_cpus, 2u);
  EXPECT_EQ(s.memory.usage, 8388608u);
  EXPECT_EQ(s.memory.limit, 67108864u);
  EXPECT_EQ(s.memory.max_usage, 0u);
  EXPECT_EQ(s.memory.failcnt, 2u) << "memory.events' oom";
  EXPECT_EQ(s.memory.stats.size(), 31u);
  EXPECT_EQ(stat_of(s.memory, "inactive_file"), 2510848u);
  EXPECT_EQ(stat_of(s.memory, "anon"), 1572864u);
  ASSERT_TRUE(s.blkio.service_bytes);
  ASSERT_EQ(s.blkio.service_bytes->size(), 2u);
  EXPECT_EQ((*s.blkio.service_bytes)[0].op, "read");
  EXPECT_EQ((*s.blkio.service_bytes)[0].value, 7593984u);
  EXPECT_EQ((*s.blkio.service_bytes)[1].op, "write");
  EXPECT_EQ((*s.blkio.service_bytes)[1].value, 100u);
  EXPECT_FALSE(s.blkio.serviced) << "v2 has only service bytes";
  EXPECT_EQ(s.pids_current, 5u);
  EXPECT_EQ(s.pids_limit, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(s.networks.at("eth0").rx_bytes, 5338u);
}

TEST(ContainerStats, UnlimitedV2MemoryIsTheMachines) {
  test::TempDir dir("stats-v2max");
  StatsHost host = fake_v2(dir);
  put(dir / "cgroup/berth/" + kId + "/memory.max", "max\n");
  EXPECT_EQ(read_stats(host, std::string("/berth/") + kId, 0).memory.limit, 2147483648u);
}

TEST(ContainerStats, AGoneCgroupReadsAsZeros) {
  test::TempDir dir("stats-gone");
  auto s = read_stats(fake_v2(dir), "/berth/gone", 0);
  EXPECT_EQ(s.cpu.total_usage, 0u);
  EXPECT_EQ(s.memory.usage, 0u);
  EXPECT_FALSE(s.blkio.service_bytes);
  EXPECT_EQ(s.cpu.online_cpus, 2u) << "the host's side is still there";
}

// ---- The JSON answer against the spec.

YAML::Node definitions() {
  static YAML::Node spec =
      YAML::LoadFile(std::string(BERTH_SOURCE_DIR) + "/tests/data/docker-engine-api-v1.55.yaml");
  return spec["definitions"];
}

YAML::Node resolve(YAML::Node schema) {
  while (schema["$ref"]) {
    auto ref = schema["$ref"].as<std::string>();
    schema = definitions()[ref.substr(ref.rfind('/') + 1)];
  }
  return schema;
}

// Every value has the spec's type, and every key is one the spec names.
void check_against(const json& value, YAML::Node schema, const std::string& where) {
  schema = resolve(schema);
  if (value.is_null()) {
    EXPECT_TRUE(schema["x-nullable"] && schema["x-nullable"].as<bool>()) << where << " is null";
    return;
  }
  std::string type = schema["type"] ? schema["type"].as<std::string>() : "object";
  if (type == "integer") {
    EXPECT_TRUE(value.is_number_unsigned()) << where << " must be an unsigned integer";
  } else if (type == "string") {
    EXPECT_TRUE(value.is_string()) << where;
  } else if (type == "array") {
    ASSERT_TRUE(value.is_array()) << where;
    for (auto& item : value) check_against(item, schema["items"], where + "[]");
  } else {
    ASSERT_TRUE(value.is_object()) << where;
    for (auto& [k, v] : value.items()) {
      if (schema["properties"] && schema["properties"][k]) {
        check_against(v, schema["properties"][k], where + "." + k);
      } else if (schema["additionalProperties"]) {
        check_against(v, schema["additionalProperties"], where + "." + k);
      } else {
        ADD_FAILURE() << where << "." << k << " is not in the spec";
      }
    }
  }
}

json answer_of(const StatsHost& host) {
  StatsFrame f{kId, "/web", read_stats(host, std::string("/berth/") + kId, 42), 0, {}};
  f.preread = f.sample.read - 1000000000;
  f.precpu = f.sample.cpu;
  return api::stats_json(f);
}

TEST(ContainerStatsJson, V1AnswerHasTheSpecsShapeAndDockerdsFields) {
  test::TempDir dir("stats-json1");
  json j = answer_of(fake_v1(dir, false));
  check_against(j, definitions()["ContainerStatsResponse"], "stats");
  for (const char* k :
       {"id", "name", "read", "preread", "cpu_stats", "precpu_stats", "memory_stats", "pids_stats",
        "blkio_stats", "num_procs", "storage_stats", "networks"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_EQ(j["name"], "/web");
  EXPECT_EQ(j["cpu_stats"]["cpu_usage"]["percpu_usage"].size(), 2u);
  EXPECT_EQ(j["cpu_stats"]["online_cpus"], 2);
  EXPECT_TRUE(j["cpu_stats"]["throttling_data"].contains("throttled_time"));
  for (const char* k : {"usage", "max_usage", "failcnt", "limit", "stats"})
    EXPECT_TRUE(j["memory_stats"].contains(k)) << k;
  EXPECT_TRUE(j["memory_stats"]["stats"].contains("total_inactive_file"));
  EXPECT_EQ(j["pids_stats"], json({{"current", 5}})) << "no limit is left out";
  for (auto& [k, v] : j["blkio_stats"].items()) EXPECT_TRUE(v.is_array()) << k;
  EXPECT_EQ(j["networks"]["eth0"]["tx_dropped"], 4);
  EXPECT_FALSE(j.contains("os_type")) << "API 1.44's dockerd did not send it";
}

TEST(ContainerStatsJson, V2AnswerHasTheSpecsShape) {
  test::TempDir dir("stats-json2");
  json j = answer_of(fake_v2(dir));
  check_against(j, definitions()["ContainerStatsResponse"], "stats");
  EXPECT_FALSE(j["cpu_stats"]["cpu_usage"].contains("percpu_usage"));
  EXPECT_FALSE(j["memory_stats"].contains("max_usage"));
  EXPECT_TRUE(j["memory_stats"]["stats"].contains("inactive_file"));
  EXPECT_FALSE(j["memory_stats"]["stats"].contains("total_inactive_file"));
  EXPECT_TRUE(j["blkio_stats"]["io_service_bytes_recursive"].is_array());
  EXPECT_TRUE(j["blkio_stats"]["io_serviced_recursive"].is_null());
  EXPECT_EQ(j["pids_stats"]["limit"].get<uint64_t>(), std::numeric_limits<uint64_t>::max());
}

TEST(ContainerStatsJson, AContainerNotRunningGetsDockerdsEmptyAnswer) {
  json j = api::stats_json(StatsFrame{kId, "/web", {}, 0, {}});
  // dockerd sends Go's nil slice here, a null the spec does not declare nullable.
  json shaped = j;
  shaped["blkio_stats"].erase("io_service_bytes_recursive");
  check_against(shaped, definitions()["ContainerStatsResponse"], "stats");
  EXPECT_EQ(j["read"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["preread"], "0001-01-01T00:00:00Z");
  EXPECT_EQ(j["memory_stats"], json::object());
  EXPECT_EQ(j["pids_stats"], json::object());
  EXPECT_TRUE(j["blkio_stats"]["io_service_bytes_recursive"].is_null());
  EXPECT_EQ(j["cpu_stats"], json::parse(R"({"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,)"
                                        R"("usage_in_usermode":0},"throttling_data":{"periods":0,)"
                                        R"("throttled_periods":0,"throttled_time":0}})"));
  EXPECT_FALSE(j.contains("networks"));
}

// ---- The docker CLI's arithmetic.

TEST(StatsCli, ComputesAsTheDockerCli) {
  json a = json::parse(R"({
    "id": "0123456789abcdef0123", "name": "/web",
    "cpu_stats": {"cpu_usage": {"total_usage": 3000000000}, "system_cpu_usage": 20000000000,
                  "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 2000000000}, "system_cpu_usage": 16000000000},
    "memory_stats": {"usage": 10485760, "limit": 67108864,
                     "stats": {"total_inactive_file": 2097152, "inactive_file": 1048576}},
    "networks": {"eth0": {"rx_bytes": 1500, "tx_bytes": 500}, "eth1": {"rx_bytes": 500}},
    "blkio_stats": {"io_service_bytes_recursive": [
        {"op": "Read", "value": 4096}, {"op": "Write", "value": 1000000},
        {"op": "Total", "value": 1004096}, {"op": "read", "value": 4096}]},
    "pids_stats": {"current": 3}})");
  auto e = cli::stats_entry(a, "web");
  EXPECT_DOUBLE_EQ(e.cpu_percent, 50.0) << "1 s of 4 s of two CPUs' time";
  EXPECT_DOUBLE_EQ(e.memory, 8388608.0) << "v1: usage less total_inactive_file";
  EXPECT_DOUBLE_EQ(e.memory_percent, 12.5);
  EXPECT_DOUBLE_EQ(e.net_rx, 2000.0);
  EXPECT_DOUBLE_EQ(e.net_tx, 500.0);
  EXPECT_DOUBLE_EQ(e.block_read, 8192.0);
  EXPECT_DOUBLE_EQ(e.block_write, 1000000.0);
  EXPECT_EQ(e.pids, 3u);
  a["memory_stats"]["stats"].erase("total_inactive_file");
  EXPECT_DOUBLE_EQ(cli::stats_entry(a, "web").memory, 9437184.0) << "v2: less inactive_file";
  a["cpu_stats"].erase("online_cpus");
  a["cpu_stats"]["cpu_usage"]["percpu_usage"] = {1, 2, 3, 4};
  EXPECT_DOUBLE_EQ(cli::stats_entry(a, "web").cpu_percent, 100.0) << "CPUs from percpu_usage";

  cli::StatsEntry gone;
  gone.container = "gone";
  gone.invalid = true;
  auto table = cli::render_stats({e, gone}, "", true);
  EXPECT_EQ(table,
            "CONTAINER ID   NAME      CPU %     MEM USAGE / LIMIT   MEM %     NET I/O      "
            "BLOCK I/O      PIDS\n"
            "0123456789ab   web       50.00%    8MiB / 64MiB        12.50%    2kB / 500B   "
            "8.19kB / 1MB   3\n"
            "               --        --        -- / --             --        --           "
            "--             --\n");
  EXPECT_EQ(cli::render_stats({e}, "{{.Container}}: {{.CPUPerc}} {{.MemUsage}}", false),
            "web: 50.00% 8MiB / 64MiB\n");
}

}  // namespace
}  // namespace berth::engine
