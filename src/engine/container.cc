#include "engine/container.h"

#include "base/error.h"

namespace berth::engine {

const char* state_name(State s) {
  switch (s) {
    case State::kCreated:
      return "created";
    case State::kRunning:
      return "running";
    case State::kPaused:
      return "paused";
    case State::kRestarting:
      return "restarting";
    case State::kRemoving:
      return "removing";
    case State::kExited:
      return "exited";
    case State::kDead:
      return "dead";
  }
  return "unknown";
}

State parse_state(const std::string& s) {
  for (State st : {State::kCreated, State::kRunning, State::kPaused, State::kRestarting,
                   State::kRemoving, State::kExited, State::kDead})
    if (s == state_name(st)) return st;
  throw Error("unknown container state " + s);
}

nlohmann::json Container::to_json() const {
  return {{"id", id},
          {"name", name},
          {"created", created},
          {"image_id", image_id},
          {"config", config},
          {"host_config", host_config},
          {"spec", spec},
          {"path", path},
          {"args", args},
          {"log_path", log_path},
          {"runtime", runtime},
          {"state",
           {{"status", state_name(state.status)},
            {"pid", state.pid},
            {"exit_code", state.exit_code},
            {"error", state.error},
            {"started_at", state.started_at},
            {"finished_at", state.finished_at},
            {"oom_killed", state.oom_killed},
            {"stopped_by_user", state.stopped_by_user},
            {"restart_count", state.restart_count},
            {"health", state.health ? engine::to_json(*state.health) : nlohmann::json(nullptr)}}}};
}

Container Container::from_json(const nlohmann::json& j) {
  Container c;
  c.id = j.at("id");
  c.name = j.at("name");
  c.created = j.at("created");
  c.image_id = j.at("image_id");
  c.config = j.at("config");
  c.host_config = j.at("host_config");
  if (auto it = j.find("spec"); it != j.end()) {
    it->get_to(c.spec);
  } else {
    // Recorded by a berthd that applied these from Docker's JSON itself.
    const auto& hc = c.host_config;
    c.spec.privileged = hc.value("Privileged", nlohmann::json(false)) == true;
    if (auto it = hc.find("ShmSize"); it != hc.end() && it->is_number_integer())
      c.spec.shm_size = it->get<int64_t>();
    if (auto it = hc.find("Ulimits"); it != hc.end() && it->is_array())
      for (auto& u : *it)
        if (u.is_object())
          c.spec.ulimits.push_back(
              {u.value("Name", ""), u.value("Soft", int64_t{0}), u.value("Hard", int64_t{0})});
    if (auto it = hc.find("Sysctls"); it != hc.end() && it->is_object())
      for (auto& [k, v] : it->items())
        if (v.is_string()) c.spec.sysctls[k] = v.get<std::string>();
  }
  c.path = j.at("path");
  c.args = j.at("args").get<std::vector<std::string>>();
  c.log_path = j.at("log_path");
  c.runtime = j.value("runtime", "berth");
  auto& s = j.at("state");
  c.state.status = parse_state(s.at("status"));
  c.state.pid = s.at("pid");
  c.state.exit_code = s.at("exit_code");
  c.state.error = s.at("error");
  c.state.started_at = s.at("started_at");
  c.state.finished_at = s.at("finished_at");
  c.state.oom_killed = s.at("oom_killed");
  c.state.stopped_by_user = s.at("stopped_by_user");
  c.state.restart_count = s.at("restart_count");
  if (auto h = s.find("health"); h != s.end() && h->is_object())
    c.state.health = health_from_json(*h);
  return c;
}

}  // namespace berth::engine
