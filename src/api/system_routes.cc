#include "api/system_routes.h"

#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

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

}  // namespace

void add_system_routes(Router& router, const DaemonFacts& facts, Services& services) {
  auto ping = [](const Request&) {
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    r.body = "OK";
    r.headers["Cache-Control"] = "no-cache, no-store, must-revalidate";
    r.headers["Pragma"] = "no-cache";
    return r;
  };
  router.add("GET", "/_ping", ping);

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

  router.add("GET", "/info", [facts, &services](const Request&) {
    utsname u{};
    ::uname(&u);
    struct sysinfo si {};
    ::sysinfo(&si);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    bool v2 = path_exists("/sys/fs/cgroup/cgroup.controllers");
    auto all = services.containers.list();
    size_t running = 0, paused = 0;
    for (auto& c : all) {
      if (c.state.status == engine::State::kPaused)
        paused++;
      else if (c.running())
        running++;
    }
    auto& engine = services.containers.options();
    nlohmann::json runtimes = {{engine::kBuiltinRuntime, {{"path", facts.runtime_path}}}};
    for (auto& [name, binary] : engine.runtimes) {
      runtimes[name] = {{"path", binary.path}};
      if (!binary.args.empty()) runtimes[name]["runtimeArgs"] = binary.args;
    }
    nlohmann::json j = {
        {"ID", facts.id},
        {"Containers", all.size()},
        {"ContainersRunning", running},
        {"ContainersPaused", paused},
        {"ContainersStopped", all.size() - running - paused},
        {"Images", services.images.list().size()},
        {"Driver", "overlay2"},
        {"DriverStatus", nlohmann::json::array()},
        {"Plugins",
         {{"Volume", {"local"}},
          {"Network", {"bridge", "host", "none"}},
          {"Log", {"json-file", "local", "none"}}}},
        {"MemoryLimit", true},
        {"SwapLimit", true},
        {"CpuCfsPeriod", true},
        {"CpuCfsQuota", true},
        {"CPUShares", true},
        {"CPUSet", true},
        {"PidsLimit", true},
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
        {"DockerRootDir", facts.data_root},
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
        {"Warnings", nlohmann::json::array()}};
    return json_response(j.dump());
  });
}

}  // namespace berth::api
