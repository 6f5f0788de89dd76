// Decoding of an exec's ExecConfig, apart from the manager so that it needs no daemon.
#include <limits>

#include "base/error.h"
#include "engine/exec.h"

namespace berth::engine {

using nlohmann::json;

std::vector<std::string> exec_strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array()) {
    for (auto& v : j)
      if (v.is_string()) out.push_back(v.get<std::string>());
  } else if (j.is_string()) {
    out.push_back(j.get<std::string>());
  }
  return out;
}

namespace {

// Go's uint, as dockerd decodes ConsoleSize: a fraction, a negative or an oversized number is
// refused, never converted.
unsigned console_dimension(const json& v) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<unsigned>::max())
    throw InvalidArgument("json: cannot unmarshal " + v.dump() +
                          " into Go struct field ExecConfig.ConsoleSize of type uint");
  return v.get<unsigned>();
}

}  // namespace

ExecRecord decode_exec_config(const json& cfg) {
  if (!cfg.is_object()) throw InvalidArgument("exec config must be a JSON object");
  ExecRecord r;
  r.cmd = exec_strings(cfg.value("Cmd", json(nullptr)));
  if (r.cmd.empty()) throw InvalidArgument("No exec command specified");
  r.env = exec_strings(cfg.value("Env", json(nullptr)));
  for (auto& e : r.env)
    if (e.empty() || e[0] == '=') throw InvalidArgument("invalid environment variable: " + e);
  r.user = cfg.value("User", json("")).is_string() ? cfg.value("User", "") : "";
  r.working_dir = cfg.value("WorkingDir", json("")).is_string() ? cfg.value("WorkingDir", "") : "";
  r.detach_keys = cfg.value("DetachKeys", json("")).is_string() ? cfg.value("DetachKeys", "") : "";
  auto flag = [&](const char* k) {
    return cfg.contains(k) && cfg[k].is_boolean() && cfg[k].get<bool>();
  };
  r.tty = flag("Tty");
  r.attach_stdin = flag("AttachStdin");
  r.attach_stdout = flag("AttachStdout");
  r.attach_stderr = flag("AttachStderr");
  r.privileged = flag("Privileged");
  if (auto cs = cfg.value("ConsoleSize", json(nullptr)); cs.is_array() && cs.size() == 2) {
    r.height = console_dimension(cs[0]);
    r.width = console_dimension(cs[1]);
  }
  return r;
}

}  // namespace berth::engine
