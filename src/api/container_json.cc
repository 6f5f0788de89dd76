#include "api/container_json.h"

#include <ctime>

#include "base/fs.h"
#include "base/time.h"

namespace berth::api {

using engine::State;
using nlohmann::json;

std::string human_duration(int64_t s) {
  if (s < 1) return "Less than a second";
  if (s == 1) return "1 second";
  if (s < 60) return std::to_string(s) + " seconds";
  int64_t m = s / 60;
  if (m == 1) return "About a minute";
  if (m < 60) return std::to_string(m) + " minutes";
  int64_t h = m / 60;
  if (h == 1) return "About an hour";
  if (h < 48) return std::to_string(h) + " hours";
  if (h < 24 * 7 * 2) return std::to_string(h / 24) + " days";
  if (h < 24 * 30 * 2) return std::to_string(h / 24 / 7) + " weeks";
  if (h < 24 * 365 * 2) return std::to_string(h / 24 / 30) + " months";
  return std::to_string(h / 24 / 365) + " years";
}

namespace {

int64_t seconds_since(const std::string& rfc3339) {
  auto t = parse_rfc3339(rfc3339);
  if (!t) return 0;
  return static_cast<int64_t>(::time(nullptr)) - *t / 1000000000;
}

std::string command_line(const engine::Container& c) {
  std::string cmd = c.path;
  // As dockerd lists it: arguments with a space are put in single quotes.
  for (auto& a : c.args) cmd += a.find(' ') == std::string::npos ? " " + a : " '" + a + "'";
  return cmd;
}

}  // namespace

std::string container_status_text(const engine::Container& c) {
  switch (c.state.status) {
    case State::kCreated:
      return "Created";
    case State::kRunning: {
      std::string up = "Up " + human_duration(seconds_since(c.state.started_at));
      if (!c.state.health) return up;
      const auto& h = c.state.health->status;
      return up + " (" + (h == engine::kHealthStarting ? "health: starting" : h) + ")";
    }
    case State::kPaused:
      return "Up " + human_duration(seconds_since(c.state.started_at)) + " (Paused)";
    case State::kRestarting:
      return "Restarting (" + std::to_string(c.state.exit_code) + ") " +
             human_duration(seconds_since(c.state.finished_at)) + " ago";
    case State::kRemoving:
      return "Removal In Progress";
    case State::kDead:
      return "Dead";
    case State::kExited:
      return "Exited (" + std::to_string(c.state.exit_code) + ") " +
             human_duration(seconds_since(c.state.finished_at)) + " ago";
  }
  return "";
}

json container_summary(const engine::Container& c, const engine::NetworkService& networks) {
  auto created = parse_rfc3339(c.created).value_or(0) / 1000000000;
  json labels = c.config.contains("Labels") && c.config["Labels"].is_object() ? c.config["Labels"]
                                                                              : json::object();
  return {
      {"Id", c.id},
      {"Names", {"/" + c.name}},
      {"Image", c.config.value("Image", "")},
      {"ImageID", c.image_id},
      {"Command", command_line(c)},
      {"Created", created},
      {"Ports", container_port_summary(c, networks)},
      {"Labels", labels},
      {"State", engine::state_name(c.state.status)},
      {"Status", container_status_text(c)},
      {"HostConfig", {{"NetworkMode", c.host_config.value("NetworkMode", "default")}}},
      {"NetworkSettings", {{"Networks", container_network_settings(c, networks).at("Networks")}}},
      {"Mounts", engine::mounts_json(c.spec.mounts)}};
}

json container_inspect(const engine::Container& c, const engine::EngineOptions& o,
                       const engine::NetworkService& networks,
                       const std::vector<std::string>& exec_ids) {
  std::string cdir = path_join(o.data_root, "containers/" + c.id);
  std::string odir = path_join(o.snapshot_root(), c.id);
  const auto& s = c.state;
  json state = {{"Status", engine::state_name(s.status)},
                {"Running", s.status == State::kRunning || s.status == State::kPaused},
                {"Paused", s.status == State::kPaused},
                {"Restarting", s.status == State::kRestarting},
                {"OOMKilled", s.oom_killed},
                {"Dead", s.status == State::kDead},
                {"Pid", s.pid},
                {"ExitCode", s.exit_code},
                {"Error", s.error},
                {"StartedAt", s.started_at},
                {"FinishedAt", s.finished_at}};
  if (s.health) state["Health"] = engine::to_json(*s.health);
  json cfg = c.config;
  for (const char* k : {"Hostname", "Domainname", "User", "WorkingDir"})
    if (!cfg.contains(k)) cfg[k] = "";
  for (const char* k :
       {"AttachStdin", "AttachStdout", "AttachStderr", "Tty", "OpenStdin", "StdinOnce"})
    if (!cfg.contains(k)) cfg[k] = false;
  if (!cfg.contains("Labels") || cfg["Labels"].is_null()) cfg["Labels"] = json::object();
  json hc = c.host_config;
  // As dockerd: only json-file's path is shown, local's files are private to the daemon.
  bool json_file = hc.value("LogConfig", json::object()).value("Type", "json-file") == "json-file";
  if (!hc.contains("RestartPolicy") || !hc["RestartPolicy"].is_object())
    hc["RestartPolicy"] = {{"Name", "no"}, {"MaximumRetryCount", 0}};
  if (!hc.contains("AutoRemove")) hc["AutoRemove"] = false;
  return {{"Id", c.id},
          {"Created", c.created},
          {"Path", c.path},
          {"Args", c.args},
          {"State", state},
          {"Image", c.image_id},
          {"ResolvConfPath", path_join(cdir, "resolv.conf")},
          {"HostnamePath", path_join(cdir, "hostname")},
          {"HostsPath", path_join(cdir, "hosts")},
          {"LogPath", json_file ? c.log_path : ""},
          {"Name", "/" + c.name},
          {"RestartCount", s.restart_count},
          {"Driver", "overlay2"},
          {"Platform", "linux"},
          {"MountLabel", ""},
          {"ProcessLabel", ""},
          {"AppArmorProfile", ""},
          {"ExecIDs", exec_ids.empty() ? json(nullptr) : json(exec_ids)},
          {"HostConfig", hc},
          {"GraphDriver",
           {{"Name", "overlay2"},
            {"Data",
             {{"MergedDir", odir + "/merged"},
              {"UpperDir", odir + "/diff"},
              {"WorkDir", odir + "/work"}}}}},
          {"Mounts", engine::mounts_json(c.spec.mounts)},
          {"Config", cfg},
          {"NetworkSettings", container_network_settings(c, networks)}};
}

}  // namespace berth::api
