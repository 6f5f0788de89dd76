#include "engine/exec.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "engine/names.h"
#include "engine/spec_builder.h"

namespace berth::engine {

using nlohmann::json;

namespace {

constexpr const char* kDefaultPath =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

std::string env_key(const std::string& e) {
  return e.substr(0, e.find('='));
}

// Docker's ReplaceOrAppendEnvValues: a later KEY=value replaces an earlier one.
void replace_or_append(std::vector<std::string>& env, const std::vector<std::string>& more) {
  for (auto& e : more) {
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& x) { return env_key(x) == env_key(e); });
    if (it != env.end()) {
      *it = e;
    } else {
      env.push_back(e);
    }
  }
}

// Docker's exit code for an exec that could not start (daemon/exec.go sets 126 for every
// start failure, whatever the runtime said).
constexpr int kStartFailureCode = 126;

void write_stream_error(int fd, bool tty, const std::string& msg) {
  std::string text = msg + "\r\n";
  std::string out;
  if (!tty) {
    // Without a terminal the client demultiplexes: the message is a stdout frame.
    out.assign(8, '\0');
    out[0] = 1;
    uint32_t len = htonl(static_cast<uint32_t>(text.size()));
    std::memcpy(out.data() + 4, &len, 4);
  }
  out += text;
  try {
    write_all(fd, out);
  } catch (const std::exception&) {
    // The client went away; the exit code is still recorded.
  }
}

}  // namespace

json ExecRecord::inspect() const {
  json args = json::array();
  for (size_t i = 1; i < cmd.size(); i++) args.push_back(cmd[i]);
  return {{"ID", id},
          {"Running", running},
          {"ExitCode", exit_code ? json(*exit_code) : json(nullptr)},
          {"ProcessConfig",
           {{"tty", tty},
            {"entrypoint", cmd.empty() ? "" : cmd[0]},
            {"arguments", args},
            {"privileged", privileged},
            {"user", user}}},
          {"OpenStdin", attach_stdin},
          {"OpenStderr", attach_stderr},
          {"OpenStdout", attach_stdout},
          {"CanRemove", false},
          {"ContainerID", container_id},
          {"DetachKeys", detach_keys},
          {"Pid", pid}};
}

std::string ExecManager::shim_socket(const std::string& container_id) const {
  return path_join(containers_.bundle_path(container_id), "shim.sock");
}

void ExecManager::event(const std::string& container_id, const std::string& action,
                        std::map<std::string, std::string> attrs) {
  try {
    Container c = containers_.get(container_id);
    attrs["name"] = c.name;
    attrs["image"] = c.config.value("Image", "");
    if (c.config.contains("Labels") && c.config["Labels"].is_object())
      for (auto& [k, v] : c.config["Labels"].items())
        if (v.is_string() && !attrs.count(k)) attrs[k] = v.get<std::string>();
  } catch (const std::exception&) {
    // Removed meanwhile: the event still names the exec.
  }
  events_.publish(Event{"container", action, container_id, std::move(attrs), 0});
}

namespace {

void check_running(const Container& c) {
  if (c.state.status == State::kPaused)
    throw Conflict("Container " + c.id + " is paused, unpause the container before exec");
  if (c.state.status == State::kRestarting)
    throw Conflict("Container " + c.id + " is restarting, wait until the container is running");
  if (c.state.status != State::kRunning) throw Conflict("Container " + c.id + " is not running");
}

// Docker's event action: "exec_create: echo hi" (entrypoint, a space, the arguments).
std::string with_command(const std::string& action, const std::vector<std::string>& cmd) {
  std::string args;
  for (size_t i = 1; i < cmd.size(); i++) args += (i > 1 ? " " : "") + cmd[i];
  return action + ": " + (cmd.empty() ? "" : cmd[0]) + " " + args;
}

}  // namespace

std::string ExecManager::create(const std::string& container_ref, const json& cfg) {
  ExecRecord r = decode_exec_config(cfg);
  Container c = containers_.get(container_ref);
  check_running(c);
  r.id = random_id();
  r.container_id = c.id;
  {
    std::lock_guard lk(mu_);
    // Records of containers that are gone go too (dockerd drops them with the container).
    for (auto it = execs_.begin(); it != execs_.end();) {
      bool gone = false;
      if (!it->second.running) {
        try {
          containers_.get(it->second.container_id);
        } catch (const NotFound&) {
          gone = true;
        }
      }
      it = gone ? execs_.erase(it) : std::next(it);
    }
    execs_[r.id] = r;
  }
  event(c.id, with_command("exec_create", r.cmd), {{"execID", r.id}});
  return r.id;
}

ExecRecord ExecManager::get(const std::string& id) const {
  std::lock_guard lk(mu_);
  auto it = execs_.find(id);
  if (it == execs_.end()) throw NotFound("No such exec instance: " + id);
  return it->second;
}

void ExecManager::add_probe(const std::string& id, const std::string& container_id,
                            const std::vector<std::string>& cmd) {
  ExecRecord r;
  r.id = id;
  r.container_id = container_id;
  r.cmd = cmd;
  r.attach_stdout = r.attach_stderr = true;
  r.started = r.running = true;
  std::lock_guard lk(mu_);
  execs_[id] = std::move(r);
}

void ExecManager::remove_probe(const std::string& id) {
  std::lock_guard lk(mu_);
  execs_.erase(id);
}

std::vector<std::string> ExecManager::live_ids(const std::string& container_id) const {
  std::lock_guard lk(mu_);
  std::vector<std::string> out;
  for (auto& [id, r] : execs_)
    if (r.container_id == container_id && !r.exit_code) out.push_back(id);
  return out;
}

ExecRecord ExecManager::begin_start(const std::string& id, const json& start) {
  ExecRecord r = get(id);
  check_running(containers_.get(r.container_id));
  std::lock_guard lk(mu_);
  auto& rec = execs_.at(id);
  if (rec.running) throw Conflict("Error: Exec command " + id + " is already running");
  if (rec.started) throw Conflict("Error: Exec command " + id + " has already run");
  rec.started = true;
  rec.raw_stream = start.is_object() && start.value("Tty", false);
  if (start.is_object())
    if (auto cs = start.value("ConsoleSize", json(nullptr)); cs.is_array() && cs.size() == 2) {
      rec.height = cs[0].get<unsigned>();
      rec.width = cs[1].get<unsigned>();
    }
  return rec;
}

oci::Process ExecManager::exec_process(const ExecRecord& r, const Container& c) const {
  // The container's own process is the base: its rlimits, no_new_privs and capabilities hold
  // for the exec as well.
  std::string rootfs = containers_.rootfs_path(c.id);
  std::string user = r.user.empty() ? c.config.value("User", "") : r.user;
  oci::Process proc = container_process(c, rootfs, user, false);
  proc.args = r.cmd;
  proc.terminal = r.tty;
  proc.console_size.reset();
  if (r.tty && r.height && r.width) proc.console_size = oci::ConsoleSize{r.height, r.width};
  // Docker's exec environment: PATH, HOSTNAME, TERM for a terminal, the container's Env,
  // then the exec's own.
  std::vector<std::string> cenv = exec_strings(c.config.value("Env", json(nullptr)));
  std::vector<std::string> env;
  if (std::none_of(cenv.begin(), cenv.end(),
                   [](const std::string& e) { return env_key(e) == "PATH"; }))
    env.push_back(kDefaultPath);
  env.push_back("HOSTNAME=" + c.config.value("Hostname", ""));
  if (r.tty) env.push_back("TERM=xterm");
  replace_or_append(env, cenv);
  replace_or_append(env, r.env);
  // As for the container's process: HOME from the exec user's passwd entry unless given, as
  // container_process put it in its env when the container's own Env has none (the only case
  // where it is used here).
  if (std::none_of(env.begin(), env.end(),
                   [](const std::string& e) { return env_key(e) == "HOME"; }))
    for (auto& e : proc.env)
      if (env_key(e) == "HOME") env.push_back(e);
  proc.env = std::move(env);
  if (!r.working_dir.empty()) proc.cwd = r.working_dir;
  if (r.privileged) {
    auto caps = grantable_capabilities();
    proc.capabilities = oci::Capabilities{caps, caps, {}, caps, {}};
  }
  return proc;
}

oci::Process ExecManager::probe_process(const Container& c,
                                        const std::vector<std::string>& cmd) const {
  ExecRecord r;
  r.cmd = cmd;
  return exec_process(r, c);
}

void ExecManager::finish(const std::string& id, int code) {
  std::string container_id;
  {
    std::lock_guard lk(mu_);
    auto it = execs_.find(id);
    if (it == execs_.end()) return;
    it->second.running = false;
    it->second.exit_code = code;
    container_id = it->second.container_id;
    cv_.notify_all();
  }
  event(container_id, "exec_die", {{"execID", id}, {"exitCode", std::to_string(code)}});
}

void ExecManager::wait_exit(const std::string& id, ShimConnection& shim) {
  int code = 255;  // the shim went away without an answer: the container died with it
  try {
    code = shim.exec_wait(id);
  } catch (const std::exception& e) {
    log::warn("exec " + id + ": " + e.what());
  }
  finish(id, code);
}

void ExecManager::run(const std::string& id, UniqueFd conn) {
  ExecRecord r = get(id);
  std::optional<ShimConnection> shim;
  pid_t pid = 0;
  try {
    Container c = containers_.get(r.container_id);
    check_running(c);
    shim::ExecRequest req;
    req.exec_id = id;
    req.process = exec_process(r, c);
    req.stdin = r.attach_stdin && conn;
    req.stdout = r.attach_stdout;
    req.stderr = r.attach_stderr;
    req.detach_keys = r.detach_keys;
    req.raw = r.raw_stream;
    shim.emplace(ShimConnection::connect(shim_socket(c.id)));
    try {
      pid = shim->exec(req, conn ? conn.get() : -1);
    } catch (const Error& e) {
      // The runtime's words, wrapped as the docker CLI shows an OCI runtime's.
      throw Error(std::string("OCI runtime exec failed: exec failed: unable to start container "
                              "process: ") +
                  e.what() + ": unknown");
    }
  } catch (const std::exception& e) {
    finish(id, kStartFailureCode);
    if (!conn) throw;
    write_stream_error(conn.get(), r.raw_stream, e.what());
    return;
  }
  {
    std::lock_guard lk(mu_);
    auto& rec = execs_.at(id);
    rec.running = true;
    rec.pid = pid;
    cv_.notify_all();
  }
  event(r.container_id, with_command("exec_start", r.cmd), {{"execID", id}});
  if (conn) {
    wait_exit(id, *shim);
    return;  // `conn` closes here: the client's stream ends after the code is recorded
  }
  std::thread([self = shared_from_this(), id, s = std::move(*shim)]() mutable {
    self->wait_exit(id, s);
  }).detach();
}

void ExecManager::resize(const std::string& id, int height, int width) {
  std::string container_id;
  {
    std::unique_lock lk(mu_);
    auto it = execs_.find(id);
    if (it == execs_.end()) throw NotFound("No such exec instance: " + id);
    // The client resizes as soon as its stream is hijacked, which may be before the shim
    // has started the process.
    bool ready = cv_.wait_for(lk, std::chrono::seconds(10), [&] {
      auto now = execs_.find(id);
      return now == execs_.end() || now->second.running || now->second.exit_code;
    });
    it = execs_.find(id);
    if (!ready) throw Error("timeout waiting for exec session ready");
    if (it == execs_.end() || !it->second.running) return;  // finished: nothing to size
    container_id = it->second.container_id;
  }
  try {
    auto shim = ShimConnection::connect(shim_socket(container_id));
    shim.exec_resize(id, static_cast<unsigned>(height), static_cast<unsigned>(width));
  } catch (const std::exception& e) {
    // An exec that ended meanwhile has no terminal left to size.
    if (get(id).running) throw;
  }
}

}  // namespace berth::engine
