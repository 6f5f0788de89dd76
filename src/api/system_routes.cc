// /_ping, /version and /info: what clients call first, to negotiate and to show the daemon.
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "api/routes.h"
#include "base/fs.h"
#include "base/time.h"

namespace berth::api {
namespace {

std::string os_name() {
  auto text = read_file_if_exists("/etc/os-release").value_or("");
  for (auto& line : split(text, '\n')) {
    if (line.rfind("PRETTY_NAME=", 0) != 0) continue;
    std::string v = line.substr(12);
    if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
    return v;
  }
  return "Linux";
}

std::string architecture(const utsname& u) {
  std::string m = u.machine;
  return m;
}

std::string go_arch(const utsname& u) {
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  return m;
}

// dockerd's /info warnings for what this kernel cannot limit.
nlohmann::json kernel_warnings(const engine::KernelFeatures& k) {
  nlohmann::json w = nlohmann::json::array();
  auto say = [&](bool have, const char* text) {
    if (!have) w.push_back(text);
  };
  say(k.memory, "WARNING: No memory limit support");
  say(k.swap_limit, "WARNING: No swap limit support");
  say(k.cpu_cfs, "WARNING: No cpu cfs quota support");
  say(k.cpu_shares, "WARNING: No cpu shares support");
  say(k.cpuset, "WARNING: No cpuset support");
  say(k.pids, "WARNING: No pids limit support");
  say(k.blkio_weight, "WARNING: No blkio weight support");
  say(k.blkio_throttle, "WARNING: No blkio throttle.read_bps_device support");
  return w;
}

}  // namespace

void add_system_routes(Router& router, engine::Engine& services, const std::string& engine_id) {
  auto ping = [](const Request&) {
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "OK";
    r.headers["Cache-Control"] = "no-cache, no-store, must-revalidate";
    r.headers["Pragma"] = "no-cache";
    return r;
  };
  router.add("GET", "/_ping", ping);
  // `docker system prune` asks every store to prune. berthd keeps no build cache yet, so
  // there is truly nothing to delete: the answer says so.
  router.add("POST", "/build/prune", [](const Request&) {
    return json_response(R"({"CachesDeleted":null,"SpaceReclaimed":0})");
  });

  router.add("GET", "/version", [](const Request&) {
    utsname u{};
    ::uname(&u);
    nlohmann::json details = {{"ApiVersion", kApiVersion},
                              {"Arch", go_arch(u)},
                              {"GitCommit", ""},
                              {"GoVersion", ""},
                              {"KernelVersion", u.release},
                              {"MinAPIVersion", kMinApiVersion},
                              {"Os", "linux"}};
    nlohmann::json j = {
        {"Platform", {{"Name", "berth"}}},
        {"Components", {{{"Name", "Engine"}, {"Version", BERTH_VERSION}, {"Details", details}}}},
        {"Version", BERTH_VERSION},
        {"ApiVersion", kApiVersion},
        {"MinAPIVersion", kMinApiVersion},
        {"GitCommit", ""},
        {"GoVersion", ""},
        {"Os", "linux"},
        {"Arch", go_arch(u)},
        {"KernelVersion", u.release},
        {"BuildTime", ""}};
    return json_response(j.dump());
  });

  router.add("GET", "/info", [engine_id, &services](const Request&) {
    utsname u{};
    ::uname(&u);
    struct sysinfo si {};
    ::sysinfo(&si);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    const auto& k = engine::kernel_features();
    bool v2 = k.cgroup_v2;
    auto all = services.containers().list();
    size_t running = 0, paused = 0;
    for (auto& c : all) {
      if (c.state.status == engine::State::kPaused)
        paused++;
      else if (c.running())
        running++;
    }
    auto& engine = services.containers().options();
    nlohmann::json runtimes = {
        {engine::kBuiltinRuntime, {{"path", services.config().runtime_binary}}}};
    for (auto& [name, binary] : engine.runtimes) {
      runtimes[name] = {{"path", binary.path}};
      if (!binary.args.empty()) runtimes[name]["runtimeArgs"] = binary.args;
    }
    nlohmann::json j = {
        {"ID", engine_id},
        {"Containers", all.size()},
        {"ContainersRunning", running},
        {"ContainersPaused", paused},
        {"ContainersStopped", all.size() - running - paused},
        {"Images", services.images().list().size()},
        {"Driver", "overlay2"},
        {"DriverStatus", nlohmann::json::array()},
        {"Plugins",
         {{"Volume", {"local"}},
          {"Network", {"bridge", "host", "none"}},
          {"Log", {"json-file", "local", "none"}}}},
        {"MemoryLimit", k.memory},
        {"SwapLimit", k.swap_limit},
        {"KernelMemory", false},
        {"KernelMemoryTCP", false},
        {"OomKillDisable", k.oom_kill_disable},
        {"CpuCfsPeriod", k.cpu_cfs},
        {"CpuCfsQuota", k.cpu_cfs},
        {"CPUShares", k.cpu_shares},
        {"CPUSet", k.cpuset},
        {"PidsLimit", k.pids},
        {"IPv4Forwarding",
         read_file_if_exists("/proc/sys/net/ipv4/ip_forward").value_or("0")[0] == '1'},
        {"Debug", false},
        {"NFd", static_cast<int>(list_dir("/proc/self/fd").size())},
        {"NGoroutines", 0},
        {"SystemTime", now_rfc3339()},
        {"LoggingDriver", engine.log_driver},
        {"CgroupDriver", "cgroupfs"},
        {"CgroupVersion", v2 ? "2" : "1"},
        {"KernelVersion", u.release},
        {"OperatingSystem", os_name()},
        {"OSType", "linux"},
        {"Architecture", architecture(u)},
        {"NCPU", ::sysconf(_SC_NPROCESSORS_ONLN)},
        {"MemTotal", static_cast<uint64_t>(si.totalram) * si.mem_unit},
        {"IndexServerAddress", "https://index.docker.io/v1/"},
        {"RegistryConfig",
         {{"IndexConfigs", nlohmann::json::object()}, {"InsecureRegistryCIDRs", {"127.0.0.0/8"}}}},
        {"DockerRootDir", services.config().data_root},
        {"Name", host},
        {"Labels", nlohmann::json::array()},
        {"ExperimentalBuild", false},
        {"ServerVersion", BERTH_VERSION},
        {"Runtimes", runtimes},
        {"DefaultRuntime", engine.default_runtime},
        {"LiveRestoreEnabled", true},
        {"Isolation", ""},
        {"InitBinary", "docker-init"},
        {"SecurityOptions", {"name=seccomp,profile=builtin"}},
        {"Warnings", kernel_warnings(k)}};
    return json_response(j.dump());
  });
}

}  // namespace berth::api
