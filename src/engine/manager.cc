#include "engine/manager.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/spawn.h"
#include "base/time.h"
#include "engine/changes.h"
#include "engine/config_merge.h"
#include "engine/container_mounts.h"
#include "engine/container_recovery.h"
#include "engine/container_top.h"
#include "engine/links.h"
#include "engine/names.h"
#include "engine/network_service.h"
#include "engine/oom_monitor.h"
#include "engine/restart_policy.h"
#include "engine/rootfs.h"
#include "engine/rootfs_export.h"
#include "engine/security_opts.h"
#include "engine/shared_shm.h"
#include "engine/shim_client.h"
#include "engine/spec_builder.h"
#include "engine/spec_parts.h"
#include "logfile/config.h"
#include "runtime/oci_runtime.h"
#include "runtime/runtime.h"
#include "shim/protocol.h"

namespace berth::engine {

using nlohmann::json;

// What the manager keeps in memory for a container beside its record.
struct ContainerManager::Live {
  std::mutex op;       // one lifecycle operation at a time
  uint64_t exits = 0;  // counts exits, for wait(next-exit)
  int last_code = 0;
  bool removed = false;
  bool monitored = false;  // a thread waits on its shim
  std::chrono::steady_clock::time_point started;
  std::chrono::milliseconds backoff{0};
  std::vector<std::pair<UniqueFd, AttachOptions>> pending_attach;
  int rootfs_borrowers = 0;  // exports and copies reading its root while it is not running
};

namespace {

// Runs `fn` on a thread whose mount namespace is its own, after `setup` has mounted there
// what `fn` reads. The container's lock `op` is held only during the setup: the namespace
// keeps its own reference to every mount in it, so a client that reads slowly never blocks
// a stop, start or rm of the container (a removal meanwhile only ends the read early).
// `op` is held again when this returns.
void in_private_mounts(std::unique_lock<std::mutex>& op, const std::function<void()>& setup,
                       const std::function<void()>& fn) {
  std::promise<void> set_up;
  std::exception_ptr failed;
  std::thread worker([&] {
    bool ready = false;
    try {
      if (::unshare(CLONE_NEWNS) < 0) throw_errno("unshare the mount namespace");
      if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) < 0)
        throw_errno("make mounts private");
      setup();
      ready = true;
      set_up.set_value();
      fn();
    } catch (...) {
      failed = std::current_exception();
      if (!ready) set_up.set_value();
    }
  });
  set_up.get_future().wait();
  op.unlock();
  worker.join();
  op.lock();
  if (failed) std::rethrow_exception(failed);
}

std::string read_hostname() {
  char buf[256] = {};
  ::gethostname(buf, sizeof buf - 1);
  return buf;
}

int stop_signal(const Container& c, const std::optional<std::string>& given) {
  std::string s = given.value_or(c.config.value("StopSignal", ""));
  if (s.empty()) return SIGTERM;
  try {
    return runtime::parse_signal(s);
  } catch (const std::exception&) {
    throw InvalidArgument("Invalid signal: " + s);
  }
}

// Docker's exit code for a command that could not be run.
int start_failure_code(const std::string& msg) {
  if (msg.find("executable file not found") != std::string::npos ||
      msg.find("no such file or directory") != std::string::npos ||
      msg.find("No such file or directory") != std::string::npos)
    return 127;
  if (msg.find("permission denied") != std::string::npos ||
      msg.find("Permission denied") != std::string::npos)
    return 126;
  return 128;
}

std::string short_id(const std::string& id) {
  return id.substr(0, 12);
}

RestartPolicy restart_policy_of(const json& host_config) {
  auto p = host_config.value("RestartPolicy", json::object());
  if (!p.is_object()) return {};
  auto name = p.value("Name", json("")), max = p.value("MaximumRetryCount", json(0));
  return parse_restart_policy(name.is_string() ? name.get<std::string>() : "",
                              max.is_number_integer() ? max.get<int>() : 0);
}

RestartPolicy restart_policy_of(const Container& c) {
  return restart_policy_of(c.host_config);
}

}  // namespace

ContainerManager::ContainerManager(EngineOptions opts, Db& db, image::ImageStore& images,
                                   network::NetworkManager& networks, VolumeService& volumes,
                                   EventBus& events)
    : opts_(std::move(opts)),
      store_(db),
      images_(images),
      networks_(networks),
      volumes_(volumes),
      events_(events),
      oom_(std::make_unique<OomMonitor>(StatsHost::detect(), [this](const std::string& id) {
        store_.set_oom_killed(id);
        if (auto c = store_.find(id)) event(*c, "oom");
      })) {
  mkdir_p(path_join(opts_.data_root, "containers"), 0710);
  mkdir_p(path_join(opts_.exec_root, "containers"), 0710);
  mkdir_p(path_join(opts_.exec_root, "runtime"), 0700);
  for (auto& [name, binary] : opts_.runtimes)
    mkdir_p(path_join(opts_.exec_root, "runtimes/" + name), 0700);
}

runtime::RuntimeConfig ContainerManager::runtime_config(const Container& c) const {
  std::string name = c.host_config.value("Runtime", "");
  if (name.empty()) name = opts_.default_runtime;
  runtime::RuntimeConfig rc;
  rc.work_dir = bundle_dir(c.id);
  if (auto it = opts_.runtimes.find(name); it != opts_.runtimes.end()) {
    rc.binary = it->second.path;
    rc.args = it->second.args;
    rc.root = path_join(opts_.exec_root, "runtimes/" + name);
    return rc;
  }
  if (name != kBuiltinRuntime && name != "runc")
    throw InvalidArgument("unknown or invalid runtime name: " + name);
  rc.root = path_join(opts_.exec_root, "runtime");
  return rc;
}

std::unique_ptr<runtime::OciRuntime> ContainerManager::runtime_of(const Container& c) const {
  return runtime::open_runtime(runtime_config(c));
}

ContainerManager::~ContainerManager() {
  std::lock_guard lk(mu_);
  shutting_down_ = true;
  cv_.notify_all();
}

network::ContainerInfo ContainerManager::network_info(const Container& c) const {
  return {c.id, c.name, c.config, c.host_config};
}

std::string ContainerManager::prepare_network(const Container& c, const std::string& cdir,
                                              SpecPaths& paths) {
  paths.hostname_file = path_join(cdir, "hostname");
  paths.hosts_file = path_join(cdir, "hosts");
  paths.resolv_conf = path_join(cdir, "resolv.conf");
  std::string mode = c.host_config.value("NetworkMode", "");
  // Regenerated at every start: they need no fsync.
  constexpr auto kFast = Durability::kCrashSafe;
  if (mode.rfind("container:", 0) == 0) {
    // The other container's namespace, and its view of names, as Docker shares them.
    auto other = store_.get(mode.substr(10));
    if (!other.running() || other.state.pid <= 0)
      throw Conflict("cannot join network of a non running container: " + other.id);
    std::string odir = container_dir(other.id);
    for (const char* f : {"hostname", "hosts", "resolv.conf"})
      write_file_atomic(path_join(cdir, f), read_file(path_join(odir, f)), 0644, kFast);
    return "/proc/" + std::to_string(other.state.pid) + "/ns/net";
  }
  auto sandbox = networks_.setup(network_info(c));
  std::string hostname = c.config.value("Hostname", "");
  write_file_atomic(paths.hostname_file, hostname + "\n", 0644, kFast);
  write_file_atomic(paths.hosts_file, sandbox.hosts, 0644, kFast);
  write_file_atomic(paths.resolv_conf, sandbox.resolv_conf, 0644, kFast);
  return sandbox.netns_path;
}

void ContainerManager::connect_network(const std::string& ref, const std::string& network,
                                       const json& endpoint_config) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  auto n = networks_.get(network);
  // Rewritten in place: the file is bind-mounted into the running container.
  if (auto resolv = networks_.connect(network_info(c), n.id, endpoint_config, c.running()))
    write_file(path_join(container_dir(c.id), "resolv.conf"), *resolv, O_TRUNC);
  events_.publish(network_event("connect", n, c.id));
}

void ContainerManager::disconnect_network(const std::string& ref, const std::string& network,
                                          bool force) {
  auto found = store_.find(ref);
  if (!found) {
    if (force) return;
    throw NotFound("No such container: " + ref);
  }
  auto l = live(found->id);
  std::lock_guard op(l->op);
  Container c = store_.get(found->id);
  auto n = networks_.get(network);
  networks_.disconnect(network_info(c), n.id, c.running());
  events_.publish(network_event("disconnect", n, c.id));
}

std::shared_ptr<ContainerManager::Live> ContainerManager::live(const std::string& id) {
  std::lock_guard lk(mu_);
  auto& l = live_[id];
  if (!l) l = std::make_shared<Live>();
  return l;
}

std::string ContainerManager::container_dir(const std::string& id) const {
  return path_join(opts_.data_root, "containers/" + id);
}

std::string ContainerManager::bundle_dir(const std::string& id) const {
  return path_join(opts_.exec_root, "containers/" + id);
}

std::string ContainerManager::rootfs_path(const std::string& id) const {
  return ContainerRootfs(opts_.snapshot_root(), id).merged();
}

std::string ContainerManager::bundle_path(const std::string& id) const {
  return bundle_dir(id);
}

void ContainerManager::event(const Container& c, const std::string& action,
                             std::map<std::string, std::string> extra) {
  extra["name"] = c.name;
  extra["image"] = c.config.value("Image", "");
  if (c.config.contains("Labels") && c.config["Labels"].is_object())
    for (auto& [k, v] : c.config["Labels"].items())
      if (v.is_string() && !extra.count(k)) extra[k] = v.get<std::string>();
  events_.publish(Event{"container", action, c.id, std::move(extra), 0});
}

void ContainerManager::read_logs(const std::string& ref, const logfile::Query& q,
                                 const std::function<bool(const logfile::Entry&)>& emit,
                                 const std::function<bool()>& keep_following) const {
  auto c = store_.get(ref);
  if (c.log_path.empty())
    throw InvalidArgument("configured logging driver does not support reading");
  const auto& codec = logfile::codec_for(
      c.host_config.value("LogConfig", json::object()).value("Type", "json-file"));
  logfile::read_log(c.log_path, codec, q, emit, [&] {
    if (!keep_following()) return false;
    auto now = store_.find(c.id);
    return now && (now->running() || now->state.status == State::kRestarting);
  });
}

int64_t ContainerManager::size_rw(const std::string& id) const {
  return tree_size(ContainerRootfs(opts_.snapshot_root(), id).diff());
}

std::vector<std::string> ContainerManager::volume_users(const std::string& name) const {
  std::vector<std::string> out;
  for (auto& c : store_.list())
    if (uses_volume(c, name)) out.push_back(c.id);
  return out;
}

void ContainerManager::release_volumes(const Container& c) {
  std::optional<std::vector<Container>> listed;  // read once, and only for a volume
  release_mounts(c, volumes_, [&](const std::string& name) {
    if (!listed) listed = store_.list();
    auto& others = *listed;
    return std::any_of(others.begin(), others.end(), [&](const Container& o) {
      return o.id != c.id && o.running() && uses_volume(o, name);
    });
  });
}

std::string ContainerManager::image_user(const std::string& image_id) const {
  for (auto& c : store_.list())
    if (c.image_id == image_id) return c.id;
  return "";
}

Created ContainerManager::create(CreateRequest req) {
  json& cfg = req.config;
  json& hc = req.host_config;
  const std::string& name = req.name;
  json& networking = req.networking;
  Created out;
  if (!cfg.is_object()) throw InvalidArgument("container config must be a JSON object");
  if (!hc.is_object()) hc = json::object();
  std::string image_ref = cfg.value("Image", "");
  if (image_ref.empty()) throw InvalidArgument("No image specified");
  auto img = images_.get(image_ref);
  merge_image_config(cfg, img.config.config);
  if (auto d = hc.value("VolumeDriver", json(""));
      d.is_string() && !d.get<std::string>().empty() && d.get<std::string>() != "local")
    throw NotFound("error looking up volume plugin " + d.get<std::string>() + ": plugin \"" +
                   d.get<std::string>() + "\" not found");
  for (auto& w : resource_warnings(req.spec.resources, kernel_features()))
    out.warnings.push_back(w);
  for (auto& w : security_opt_warnings(hc)) out.warnings.push_back(w);
  // The namespaces of other containers are named by id from now on.
  for (auto* mode : {&req.spec.pid, &req.spec.ipc})
    if (auto other = mode->joined()) mode->container = store_.get(*other).id;
  // A device that is not there is a 400 now, as with dockerd, not a failed start.
  if (!req.spec.devices.empty()) container_devices(req.spec);

  Container c;
  c.id = random_id();
  if (!name.empty()) {
    c.name = name[0] == '/' ? name.substr(1) : name;
    check_container_name(c.name);
  } else {
    // Another draw when a name is taken, as Docker does.
    for (int i = 0; i < 8 && (c.name.empty() || store_.find(c.name)); i++) c.name = random_name();
    if (store_.find(c.name)) c.name += "_" + short_id(c.id);
  }
  std::vector<std::string> cmd = strings(cfg.value("Entrypoint", json(nullptr)));
  for (auto& a : strings(cfg.value("Cmd", json(nullptr)))) cmd.push_back(a);
  if (cmd.empty()) throw InvalidArgument("No command specified");
  c.path = cmd[0];
  c.args.assign(cmd.begin() + 1, cmd.end());

  auto policy = restart_policy_of(hc);
  if (hc.value("AutoRemove", false) && policy.kind != RestartPolicy::Kind::kNo)
    throw InvalidArgument("can't create 'AutoRemove' container with restart policy");
  check_security_opts(hc, container_capabilities(hc));
  // Recorded as dockerd does: the default's name when none is given.
  if (!hc["Runtime"].is_string() || hc["Runtime"].get<std::string>().empty())
    hc["Runtime"] = opts_.default_runtime;
  auto log_cfg = hc.value("LogConfig", json::object());
  std::string driver = log_cfg.is_object() ? log_cfg.value("Type", "") : "";
  json log_opts = log_cfg.is_object() && log_cfg.contains("Config") && log_cfg["Config"].is_object()
                      ? log_cfg["Config"]
                      : json::object();
  if (driver.empty()) driver = opts_.log_driver;
  if (driver == opts_.log_driver)
    for (auto& [k, v] : opts_.log_opts)
      if (!log_opts.contains(k)) log_opts[k] = v;
  std::map<std::string, std::string> log_opt_map;
  for (auto& [k, v] : log_opts.items()) {
    if (!v.is_string()) throw InvalidArgument("log opt '" + k + "': expected a string");
    log_opt_map[k] = v.get<std::string>();
  }
  // Values too, not only the keys as dockerd at create: a bad max-size is a 400 now rather
  // than a failed start later.
  logfile::parse_config(driver, log_opt_map);
  hc["LogConfig"] = {{"Type", driver}, {"Config", log_opts}};
  if (!hc.contains("NetworkMode") || !hc["NetworkMode"].is_string() ||
      hc["NetworkMode"].get<std::string>().empty())
    hc["NetworkMode"] = "default";
  std::string netmode = hc["NetworkMode"];
  if (netmode.rfind("container:", 0) == 0) {
    auto target = store_.get(netmode.substr(10));
    hc["NetworkMode"] = "container:" + target.id;
    if (!cfg.value("Hostname", "").empty())
      throw InvalidArgument("conflicting options: hostname and the network mode");
    cfg["Hostname"] = target.config.value("Hostname", "");
  } else if (req.spec.uts.host()) {
    if (!cfg.value("Hostname", "").empty())
      throw InvalidArgument("Conflicting options: hostname and the UTS mode");
    cfg["Hostname"] = read_hostname();
  } else if (cfg.value("Hostname", "").empty()) {
    // The host network keeps the host's name, as Docker does.
    cfg["Hostname"] = netmode == "host" ? read_hostname() : short_id(c.id);
  }
  record_container_links(hc, networking, c.name,
                         [&](const std::string& ref) { return store_.get(ref).name; });

  c.created = now_rfc3339();
  c.image_id = img.id;
  c.config = std::move(cfg);
  c.host_config = std::move(hc);
  c.spec = std::move(req.spec);
  runtime_config(c);  // an unknown runtime fails the create
  c.log_path = logfile::log_path(driver, container_dir(c.id), c.id);
  json endpoints =
      networking.is_object() ? networking.value("EndpointsConfig", json::object()) : json::object();
  networks_.declare(network_info(c), endpoints.is_object() ? endpoints : json::object());
  mkdir_p(container_dir(c.id), 0710);
  // Held until the record is in: a volume chosen here cannot be removed before it is used.
  auto volumes_held = volumes_.hold();
  std::vector<std::string> made_volumes;
  try {
    c.spec.mounts = resolve_mounts(
        c.spec, c.config.value("Volumes", json(nullptr)),
        [&](const std::string& ref) {
          // dockerd's 400, not a 404 that the CLI would take for a missing image.
          auto other = store_.find(ref);
          if (!other) throw InvalidArgument("No such container: " + ref);
          return *other;
        },
        volumes_, made_volumes);
    ContainerRootfs rootfs(opts_.snapshot_root(), c.id);
    rootfs.prepare();
    // Empty volumes get the image's content now, as dockerd fills them at create: a volume
    // container that never runs serves its image's data through --volumes-from.
    if (auto layers = images_.layer_dirs(img); needs_copy_up(c.spec.mounts, layers)) {
      std::string merged = rootfs.mount(layers);
      try {
        copy_up_volumes(c.spec.mounts, merged, volumes_);
      } catch (...) {
        rootfs.unmount();
        throw;
      }
      rootfs.unmount();
    }
    store_.add(c);
  } catch (...) {
    for (auto& v : made_volumes) {
      try {
        volumes_.remove_held(v);
      } catch (const std::exception& e) {
        log::warn("remove volume " + v + " of a failed create: " + e.what());
      }
    }
    networks_.forget(c.id);
    remove_all(container_dir(c.id));
    ContainerRootfs(opts_.snapshot_root(), c.id).remove();
    throw;
  }
  event(c, "create");
  out.container = std::move(c);
  return out;
}

void ContainerManager::join_namespaces(const Container& c, SpecPaths& paths) const {
  auto running = [&](const std::string& id, const char* what) {
    auto other = store_.get(id);
    if (!other.running() || other.state.pid <= 0)
      throw Conflict(std::string("cannot join ") + what + " of a non running container: " + id);
    return other;
  };
  if (auto id = c.spec.pid.joined())
    paths.joined_namespaces["pid"] =
        "/proc/" + std::to_string(running(*id, "PID").state.pid) + "/ns/pid";
  if (auto id = c.spec.ipc.joined()) {
    auto other = running(*id, "IPC");
    // As dockerd's default ipc mode "private": only a donor that agreed may be joined.
    if (other.spec.ipc.kind != NamespaceMode::Kind::kShareable && !other.spec.ipc.host())
      throw Conflict("non-shareable IPC (hint: use IpcMode:shareable for the donor container)");
    paths.joined_namespaces["ipc"] = "/proc/" + std::to_string(other.state.pid) + "/ns/ipc";
    paths.shared_shm =
        other.spec.ipc.host() ? "/dev/shm" : shareable_shm_path(container_dir(other.id));
  }
  if (c.spec.ipc.host()) paths.shared_shm = "/dev/shm";
  if (c.spec.ipc.kind == NamespaceMode::Kind::kShareable) {
    mount_shareable_shm(container_dir(c.id), c.spec.shm_size);
    paths.shared_shm = shareable_shm_path(container_dir(c.id));
  }
}

void ContainerManager::start_locked(Container& c, Live& l) {
  auto img = images_.get(c.image_id);
  ContainerRootfs rootfs(opts_.snapshot_root(), c.id);
  std::string bundle = bundle_dir(c.id);
  std::string cdir = container_dir(c.id);
  auto t_begin = std::chrono::steady_clock::now();
  bool volumes_mounted = false;
  try {
    std::string merged = rootfs.mount(images_.layer_dirs(img));
    // Docker creates a working directory the image does not have.
    if (auto wd = c.config.value("WorkingDir", ""); !wd.empty()) mkdir_in_root(merged, wd);
    mkdir_p(bundle, 0700);
    mkdir_p(cdir, 0710);
    SpecPaths paths;
    paths.rootfs = merged;
    paths.netns = prepare_network(c, cdir, paths);
    join_namespaces(c, paths);
    if (!c.spec.mounts.empty()) {
      volumes_mounted = true;
      paths.user_mounts = prepare_mounts(c, volumes_);
    }
    // Decided at each start, as dockerd does, so a null Init follows the daemon's default.
    json init = c.host_config.value("Init", json(nullptr));
    if (init.is_boolean() ? init.get<bool>() : opts_.init_by_default)
      paths.init_binary = opts_.init_binary;
    constexpr auto kFast = Durability::kCrashSafe;
    auto linked = with_links_env(c, store_, networks_);
    write_file_atomic(path_join(bundle, "config.json"),
                      oci::write_spec(build_spec(linked ? *linked : c, paths)).dump(), 0644, kFast);
    ::unlink(path_join(bundle, shim::kExitFile).c_str());

    ShimLaunch launch;
    launch.shim_binary = opts_.shim_binary;
    launch.id = c.id;
    launch.bundle = bundle;
    auto rc = runtime_config(c);
    launch.runtime_root = rc.root;
    launch.runtime_binary = rc.binary;
    launch.runtime_args = rc.args;
    launch.socket = path_join(bundle, "shim.sock");
    launch.state_dir = bundle;
    launch.tty = c.tty();
    launch.open_stdin = c.config.value("OpenStdin", false);
    launch.stdin_once = c.config.value("StdinOnce", false);
    auto& lc = c.host_config["LogConfig"];
    launch.log_driver = lc.value("Type", "json-file");
    launch.log_path = c.log_path;
    if (lc.contains("Config") && lc["Config"].is_object())
      for (auto& [k, v] : lc["Config"].items())
        if (v.is_string()) launch.log_opts.push_back(k + "=" + v.get<std::string>());
    auto t_prepared = std::chrono::steady_clock::now();
    spawn_shim(launch);
    auto t_created = std::chrono::steady_clock::now();
    auto conn = ShimConnection::connect(launch.socket);
    for (auto& [fd, o] : l.pending_attach) {
      try {
        conn.attach({o.stdin, o.stdout, o.stderr, o.detach_keys}, fd.get());
      } catch (const std::exception& e) {
        log::warn("attach to " + c.id + ": " + e.what());
      }
    }
    l.pending_attach.clear();
    c.state.pid = conn.start();
    auto ms = [](auto a, auto b) {
      return std::to_string(std::chrono::duration<double, std::milli>(b - a).count());
    };
    log::debug("start " + short_id(c.id) + ": prepare " + ms(t_begin, t_prepared) +
               " ms, shim and create " + ms(t_prepared, t_created) + " ms, start " +
               ms(t_created, std::chrono::steady_clock::now()) + " ms");
  } catch (const std::exception& e) {
    std::string msg = e.what();
    try {
      networks_.teardown(c.id);
      rootfs.unmount();
      unmount_shareable_shm(cdir);
      if (volumes_mounted) release_volumes(c);
    } catch (const std::exception& ex) {
      log::warn("start of " + c.id + " failed, and so did its cleanup: " + ex.what());
    }
    l.pending_attach.clear();
    // Docker leaves a container that never ran "created", with the exit code of the failure.
    if (c.state.status != State::kCreated) c.state.status = State::kExited;
    c.state.exit_code = start_failure_code(msg);
    c.state.error = msg;
    c.state.pid = 0;
    c.state.finished_at = now_rfc3339();
    store_.update(c);
    {
      std::lock_guard lk(mu_);
      l.last_code = c.state.exit_code;
    }
    // `run --rm` waits for the removal: a container that never ran goes as well.
    if (c.host_config.value("AutoRemove", false)) destroy(c, true);
    // What the user named and is missing (a network) is said as it is, as dockerd does.
    if (kind_of(e) == ErrorKind::kNotFound) throw NotFound(msg);
    throw_error(kind_of(e), "failed to create task for container: " + msg);
  }
  c.state.status = State::kRunning;
  c.state.started_at = now_rfc3339();
  c.state.error.clear();
  c.state.exit_code = 0;
  c.state.oom_killed = false;
  store_.update(c);
  refresh_linkers_hosts(c, store_, networks_, [this](const std::string& id) {
    return path_join(container_dir(id), "hosts");
  });
  l.started = std::chrono::steady_clock::now();
  if (run_observer_) run_observer_(c, true);
  event(c, "start");
  {
    std::lock_guard lk(mu_);
    l.monitored = true;
  }
  std::thread([this, id = c.id] { monitor(id); }).detach();
}

bool ContainerManager::start(const std::string& ref) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  if (c.state.status == State::kPaused)
    throw Conflict("cannot start a paused container, try unpause instead");
  if (c.running()) return false;
  c.state.stopped_by_user = false;
  start_locked(c, *l);
  return true;
}

void ContainerManager::monitor(std::string id) {
  std::string bundle = bundle_dir(id);
  shim::ExitStatus exit;
  exit.code = 255;
  std::string error;
  if (auto c = store_.find(id)) oom_->watch(id, cgroups_path(*c, SpecPaths().cgroup_parent));
  try {
    exit = ShimConnection::connect(path_join(bundle, "shim.sock")).wait();
  } catch (const std::exception& ex) {
    // The shim went away: it wrote the status before it left, unless it was killed.
    if (auto text = read_file_if_exists(path_join(bundle, shim::kExitFile))) {
      exit = shim::ExitStatus::from_json(json::parse(*text));
    } else {
      error = std::string("the container's shim died: ") + ex.what();
    }
  }
  if (exit.finished_at.empty()) exit.finished_at = now_rfc3339();
  on_exit(id, exit.code, exit.finished_at, exit.oom_kills, error);
}

void ContainerManager::on_exit(const std::string& id, int code, const std::string& finished_at,
                               uint64_t oom_kills, const std::string& error) {
  auto l = live(id);
  auto found = store_.find(id);
  if (!found) return;
  Container c = *found;
  // Restart policies, with Docker's backoff: 100 ms doubling, back to 100 ms after a run of
  // ten seconds or more. A container that will restart is "restarting" from its exit on,
  // never "exited" in between.
  bool restart = should_restart(restart_policy_of(c),
                                {code, c.state.stopped_by_user,
                                 c.host_config.value("AutoRemove", false), c.state.restart_count});
  c.state.status = restart ? State::kRestarting : State::kExited;
  c.state.exit_code = code;
  c.state.finished_at = finished_at;
  c.state.oom_killed = oom_kills > 0;
  c.state.pid = 0;
  c.state.error = error;
  store_.update(c);
  if (run_observer_) run_observer_(c, false);
  try {
    networks_.teardown(c.id);
  } catch (const std::exception& e) {
    log::warn("network teardown of " + c.id + ": " + e.what());
  }
  try {
    ContainerRootfs(opts_.snapshot_root(), c.id).unmount();
    unmount_shareable_shm(container_dir(c.id));
    release_volumes(c);
  } catch (const std::exception& e) {
    log::warn(e.what());
  }
  // Each kill is one event, before the die: those the live watch missed (the last ones,
  // after it read the counter; all of them where the cgroup could not be watched) now.
  for (uint64_t seen = oom_->forget(id); seen < oom_kills; seen++) event(c, "oom");
  event(c, "die", {{"exitCode", std::to_string(code)}});
  {
    std::lock_guard lk(mu_);
    l->last_code = code;
    l->exits++;
    l->monitored = false;
    cv_.notify_all();
  }
  if (c.host_config.value("AutoRemove", false)) {
    try {
      destroy(c, true);
    } catch (const std::exception& e) {
      log::error("auto-remove " + c.id + ": " + e.what());
    }
    return;
  }

  if (!restart) return;
  l->backoff = next_backoff(l->backoff, std::chrono::steady_clock::now() - l->started);
  {
    std::unique_lock lk(mu_);
    uint64_t seq = l->exits;
    cv_.wait_for(lk, l->backoff, [&] { return shutting_down_ || l->removed || l->exits != seq; });
    if (shutting_down_ || l->removed) return;
  }
  std::lock_guard op(l->op);
  auto now = store_.find(id);
  if (!now || now->state.status != State::kRestarting || now->state.stopped_by_user) return;
  Container next = *now;
  next.state.restart_count++;
  try {
    start_locked(next, *l);
    event(next, "restart");
  } catch (const std::exception& e) {
    log::error("restart " + id + ": " + e.what());
  }
}

void ContainerManager::send_kill(const Container& c, int signal) {
  auto conn = ShimConnection::connect(path_join(bundle_dir(c.id), "shim.sock"));
  conn.kill(signal, false);
}

bool ContainerManager::wait_exit(Live& l, uint64_t seq, int timeout_s) {
  std::unique_lock lk(mu_);
  auto done = [&] { return l.exits != seq || !l.monitored; };
  if (timeout_s < 0) {
    cv_.wait(lk, done);
    return true;
  }
  return cv_.wait_for(lk, std::chrono::seconds(timeout_s), done);
}

bool ContainerManager::stop(const std::string& ref, std::optional<int> timeout,
                            std::optional<std::string> signal) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  if (c.state.status == State::kRestarting) {
    c.state.stopped_by_user = true;
    c.state.status = State::kExited;
    store_.update(c);
    std::lock_guard lk(mu_);
    cv_.notify_all();
    return true;
  }
  if (!c.running()) return false;
  int sig = stop_signal(c, signal);
  int t = timeout.value_or(c.config.value("StopTimeout", 10));
  c.state.stopped_by_user = true;
  store_.update(c);
  uint64_t seq;
  {
    std::lock_guard lk(mu_);
    seq = l->exits;
  }
  if (c.state.status == State::kPaused) runtime_of(c)->resume(c.id);
  event(c, "kill", {{"signal", std::to_string(sig)}});
  try {
    send_kill(c, sig);
  } catch (const std::exception& e) {
    log::debug("stop " + c.id + ": " + e.what());
  }
  // A SIGKILL needs no second one: rm -f sent two (a round trip to the shim each).
  if (!wait_exit(*l, seq, sig == SIGKILL ? -1 : t)) {
    event(c, "kill", {{"signal", std::to_string(SIGKILL)}});
    try {
      send_kill(c, SIGKILL);
    } catch (const std::exception& e) {
      log::debug("stop " + c.id + ": " + e.what());
    }
    wait_exit(*l, seq, -1);
  }
  event(store_.find(c.id).value_or(c), "stop");
  return true;
}

void ContainerManager::kill(const std::string& ref, const std::string& signal) {
  Container c = store_.get(ref);
  int sig = SIGKILL;
  if (!signal.empty()) {
    try {
      sig = runtime::parse_signal(signal);
    } catch (const std::exception&) {
      throw InvalidArgument("Invalid signal: " + signal);
    }
  }
  if (!c.running()) throw Conflict("Container " + c.id + " is not running");
  if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT) {
    c.state.stopped_by_user = true;
    store_.update(c);
  }
  auto l = live(c.id);
  uint64_t seq;
  {
    std::lock_guard lk(mu_);
    seq = l->exits;
  }
  event(c, "kill", {{"signal", std::to_string(sig)}});
  send_kill(c, sig);
  // As dockerd: a SIGKILL returns once the exit is recorded, so that the client's next
  // request (inspect, rm) finds the container stopped. Bounded, as dockerd's 10 s.
  if (sig == SIGKILL) wait_exit(*l, seq, 10);
}

void ContainerManager::restart(const std::string& ref, std::optional<int> timeout) {
  Container c = store_.get(ref);
  stop(c.id, timeout);
  start(c.id);
  event(store_.get(c.id), "restart");
}

void ContainerManager::destroy(const Container& c, bool remove_volumes) {
  auto l = live(c.id);
  {
    std::lock_guard lk(mu_);
    if (l->removed) return;
  }
  networks_.forget(c.id);
  ContainerRootfs(opts_.snapshot_root(), c.id).remove();
  unmount_shareable_shm(container_dir(c.id));
  remove_all(container_dir(c.id));
  remove_all(bundle_dir(c.id));
  store_.remove(c.id);
  event(c, "destroy");
  // Named volumes stay; anonymous ones go unless another container uses them too.
  if (remove_volumes)
    for (auto& m : c.spec.mounts) {
      if (m.type != MountSpec::Type::kVolume || !m.anonymous) continue;
      try {
        volumes_.remove(m.source, true);
      } catch (const std::exception& e) {
        if (kind_of(e) != ErrorKind::kConflict)
          log::warn("remove volume " + m.source + " of " + c.id + ": " + e.what());
      }
    }
  std::lock_guard lk(mu_);
  l->removed = true;
  l->pending_attach.clear();
  cv_.notify_all();
  live_.erase(c.id);
}

void ContainerManager::remove(const std::string& ref, bool force, bool volumes) {
  Container c = store_.get(ref);
  // dockerd's words (API 1.44): the name, and what the container is doing.
  if (c.state.status == State::kPaused && !force)
    throw Conflict("cannot remove container \"/" + c.name +
                   "\": container is paused and must be unpaused first");
  if ((c.running() || c.state.status == State::kRestarting) && !force)
    throw Conflict("cannot remove container \"/" + c.name + "\": container is " +
                   state_name(c.state.status) +
                   ": stop the container before removing or force remove");
  if (c.running() || c.state.status == State::kRestarting) stop(c.id, 0, "SIGKILL");
  auto l = live(c.id);
  std::lock_guard op(l->op);
  auto now = store_.find(c.id);
  if (!now) return;
  destroy(*now, volumes);
}

void ContainerManager::remove_link(const std::string& link_name) {
  std::string name = link_name[0] == '/' ? link_name.substr(1) : link_name;
  auto slash = name.rfind('/');
  if (slash == std::string::npos)
    throw Conflict("Conflict, cannot remove the default link name of the container");
  auto parent = store_.find(name.substr(0, slash));
  if (!parent) throw NotFound("No such container: " + name);
  auto l = live(parent->id);
  std::lock_guard op(l->op);
  Container c = store_.get(parent->id);
  json& links = c.host_config["Links"];
  std::string suffix = ":/" + name;
  if (!links.is_array()) throw NotFound("No such container: " + name);
  auto it = std::find_if(links.begin(), links.end(), [&](const json& s) {
    return s.is_string() && s.get_ref<const std::string&>().ends_with(suffix);
  });
  if (it == links.end()) throw NotFound("No such container: " + name);
  links.erase(it);
  if (links.empty()) links = nullptr;
  store_.update(c);
}

int ContainerManager::wait(const std::string& ref, WaitCondition cond) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::unique_lock lk(mu_);
  uint64_t seq = l->exits;
  if (cond == WaitCondition::kNotRunning && !c.running() && c.state.status != State::kRestarting)
    return c.state.exit_code;
  if (cond == WaitCondition::kRemoved) {
    cv_.wait(lk, [&] { return l->removed || shutting_down_; });
    return l->last_code;
  }
  cv_.wait(lk, [&] { return l->exits != seq || l->removed || shutting_down_; });
  return l->exits != seq ? l->last_code : c.state.exit_code;
}

void ContainerManager::attach(const std::string& ref, UniqueFd conn, const AttachOptions& o,
                              const std::function<void()>& ready) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  if (c.running()) {
    // The answer goes out before the shim writes to the connection.
    ready();
    auto shim = ShimConnection::connect(path_join(bundle_dir(c.id), "shim.sock"));
    shim.attach({o.stdin, o.stdout, o.stderr, o.detach_keys}, conn.get());
    event(c, "attach");
    return;
  }
  // Attached before start (what `docker run` does): handed over when the shim exists.
  l->pending_attach.emplace_back(std::move(conn), o);
  // Answered while the lifecycle lock is held: a start cannot slip in before the attachment.
  ready();
  event(c, "attach");
}

void ContainerManager::resize(const std::string& ref, int height, int width) {
  Container c = store_.get(ref);
  if (!c.running()) throw Conflict("Container " + c.id + " is not running");
  auto shim = ShimConnection::connect(path_join(bundle_dir(c.id), "shim.sock"));
  shim.resize(static_cast<unsigned>(height), static_cast<unsigned>(width));
}

namespace {

// Whether `pid` has exited (a zombie too: its cgroup is going).
bool process_gone(int pid) {
  if (pid <= 0) return true;
  auto stat = read_file_if_exists("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  auto paren = stat->rfind(')');
  return paren == std::string::npos || paren + 2 >= stat->size() || (*stat)[paren + 2] == 'Z' ||
         (*stat)[paren + 2] == 'X';
}

}  // namespace

void ContainerManager::pause(const std::string& ref) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  if (c.state.status == State::kPaused) throw Conflict("Container " + c.id + " is already paused");
  if (!c.running()) throw Conflict("Container " + c.id + " is not running");
  try {
    runtime_of(c)->pause(c.id);
  } catch (const std::exception&) {
    // Exiting, its exit not recorded yet (a commit racing it): not running, no runtime failure.
    if (process_gone(c.state.pid)) throw Conflict("Container " + c.id + " is not running");
    throw;
  }
  c.state.status = State::kPaused;
  store_.update(c);
  event(c, "pause");
}

void ContainerManager::unpause(const std::string& ref) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  if (c.state.status != State::kPaused) throw Conflict("Container " + c.id + " is not paused");
  runtime_of(c)->resume(c.id);
  c.state.status = State::kRunning;
  store_.update(c);
  event(c, "unpause");
}

void ContainerManager::rename(const std::string& ref, const std::string& name) {
  Container c = store_.get(ref);
  std::string n = name.empty() || name[0] != '/' ? name : name.substr(1);
  if (n.empty()) throw InvalidArgument("Neither old nor new names may be empty");
  check_container_name(n);
  if (n == c.name) throw Conflict("Renaming a container with the same name as its current name");
  store_.rename(c.id, n);
  networks_.rename(c.id, n);
  for (auto& other : store_.list()) {
    if (json hc = other.host_config; !rename_in_links(hc, other.name, c.name, n)) continue;
    auto l = live(other.id);
    std::lock_guard op(l->op);
    auto fresh = store_.find(other.id);
    if (fresh && rename_in_links(fresh->host_config, fresh->name, c.name, n)) store_.update(*fresh);
  }
  event(store_.get(c.id), "rename", {{"oldName", "/" + c.name}});
}

void ContainerManager::update_restart_policy(const std::string& ref, const json& policy) {
  Container c = store_.get(ref);
  if (!policy.is_object()) throw InvalidArgument("RestartPolicy must be a JSON object");
  auto parsed = restart_policy_of(json{{"RestartPolicy", policy}});
  if (c.host_config.value("AutoRemove", false) && parsed.kind != RestartPolicy::Kind::kNo)
    throw InvalidArgument(
        "Restart policy cannot be updated because AutoRemove is enabled for "
        "the container");
  c.host_config["RestartPolicy"] = policy;
  store_.update(c);
  event(c, "update");
}

std::vector<std::string> ContainerManager::update_resources(const std::string& ref,
                                                            const ResourceUpdate& u) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::lock_guard op(l->op);
  c = store_.get(c.id);
  Resources r = c.spec.resources;
  json& hc = c.host_config;
  auto cannot = [&](const std::string& why) -> void {
    throw InvalidArgument("Cannot update container " + c.id + ": " + why);
  };
  // NanoCpus stands for a period and a quota: one kind of CPU limit at a time, as dockerd.
  if (u.nano_cpus && *u.nano_cpus > 0 && r.cpu_period > 0)
    cannot("Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set");
  if (u.nano_cpus && *u.nano_cpus > 0 && r.cpu_quota > 0)
    cannot("Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set");
  if (u.cpu_period && *u.cpu_period > 0 && r.nano_cpus > 0)
    cannot("Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set");
  if (u.cpu_quota && *u.cpu_quota > 0 && r.nano_cpus > 0)
    cannot("Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set");
  // The swap that create defaulted to twice the memory is the container's from now on.
  if (r.memory > 0 && r.memory_swap == 0) r.memory_swap = 2 * r.memory;
  if (u.memory) {
    if (r.memory_swap > 0 && *u.memory > r.memory_swap && !u.memory_swap)
      cannot(
          "Memory limit should be smaller than already set memoryswap limit, update the "
          "memoryswap at the same time");
    r.memory = *u.memory;
  }
  if (u.memory_swap) r.memory_swap = *u.memory_swap;
  if (r.memory > 0 && r.memory_swap > 0 && r.memory_swap < r.memory)
    cannot("Minimum memoryswap limit should be larger than memory limit, see usage");
  if (u.memory_reservation) r.memory_reservation = *u.memory_reservation;
  if (r.memory > 0 && r.memory_reservation > r.memory)
    cannot("Minimum memory limit can not be less than memory reservation limit, see usage");
  if (u.cpu_shares) r.cpu_shares = *u.cpu_shares;
  if (u.cpu_period) r.cpu_period = *u.cpu_period;
  if (u.cpu_quota) r.cpu_quota = *u.cpu_quota;
  if (u.nano_cpus) r.nano_cpus = *u.nano_cpus;
  if (u.cpu_realtime_period) r.cpu_realtime_period = *u.cpu_realtime_period;
  if (u.cpu_realtime_runtime) r.cpu_realtime_runtime = *u.cpu_realtime_runtime;
  if (u.cpuset_cpus) r.cpuset_cpus = *u.cpuset_cpus;
  if (u.cpuset_mems) r.cpuset_mems = *u.cpuset_mems;
  if (u.blkio_weight) r.blkio_weight = *u.blkio_weight;
  if (u.pids_limit) r.pids_limit = *u.pids_limit;

  auto warnings = resource_warnings(r, kernel_features());
  if (c.running()) {
    oci::Resources resources = container_resources(r, kernel_features());
    // A limit taken away is "unlimited" to the cgroup, not "left as it was".
    if (u.pids_limit && *u.pids_limit <= 0 && kernel_features().pids) resources.pids_limit = -1;
    try {
      runtime_of(c)->update(c.id, oci::write_resources(resources));
    } catch (const std::exception& e) {
      rethrow_with_context(e, "Cannot update container " + c.id);
    }
  }
  c.spec.resources = r;
  // Inspect shows what the container has now, in Docker's field names.
  hc["Memory"] = r.memory;
  hc["MemorySwap"] = r.memory_swap;
  hc["MemoryReservation"] = r.memory_reservation;
  hc["CpuShares"] = r.cpu_shares;
  hc["CpuPeriod"] = r.cpu_period;
  hc["CpuQuota"] = r.cpu_quota;
  hc["NanoCpus"] = r.nano_cpus;
  hc["CpuRealtimePeriod"] = r.cpu_realtime_period;
  hc["CpuRealtimeRuntime"] = r.cpu_realtime_runtime;
  hc["CpusetCpus"] = r.cpuset_cpus;
  hc["CpusetMems"] = r.cpuset_mems;
  hc["BlkioWeight"] = r.blkio_weight;
  hc["PidsLimit"] = r.pids_limit && *r.pids_limit > 0 ? json(*r.pids_limit) : json(nullptr);
  store_.update(c);
  event(c, "update");
  return warnings;
}

json ContainerManager::top(const std::string& ref, const std::string& ps_args) {
  check_ps_args(ps_args);
  Container c = store_.get(ref);
  if (c.state.status == State::kRestarting)
    throw Conflict("Container " + c.id + " is restarting, wait until the container is running");
  if (!c.running()) throw Conflict("Container " + c.id + " is not running");
  json table = ps_top(runtime_of(c)->pids(c.id), ps_args);
  event(c, "top");
  return table;
}

json ContainerManager::changes(const std::string& ref) {
  Container c = store_.get(ref);
  auto img = images_.get(c.image_id);
  json out = json::array();
  for (auto& ch : container_changes(ContainerRootfs(opts_.snapshot_root(), c.id).diff(),
                                    images_.layer_dirs(img)))
    out.push_back({{"Path", ch.path}, {"Kind", ch.kind}});
  return out;
}

void ContainerManager::export_rootfs(const std::string& ref,
                                     const std::function<void(std::string_view)>& out) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::unique_lock op(l->op);
  c = store_.get(c.id);
  read_rootfs(
      c, *l, op, [](const std::string&) {},
      [&](const std::string& merged) { write_rootfs_tar(merged, out); });
  event(c, "export");
}

void ContainerManager::with_root(const std::string& ref, const std::function<void(int)>& fn) {
  Container c = store_.get(ref);
  auto l = live(c.id);
  std::unique_lock op(l->op);
  c = store_.get(c.id);
  if (c.running() && c.state.pid > 0) {
    // The container's own view, mounts and all; it stays valid if the container exits.
    std::string proc_root = "/proc/" + std::to_string(c.state.pid) + "/root";
    UniqueFd root(::open(proc_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open the root of container " + c.id);
    op.unlock();
    fn(root.get());
    return;
  }
  // Stopped: its root, and its volumes and binds over it, as the container would see them.
  UniqueFd root;
  read_rootfs(
      c, *l, op,
      [&](const std::string& merged) {
        bind_mounts_into(c, merged, volumes_);
        root = UniqueFd(::open(merged.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_errno("open " + merged);
      },
      [&](const std::string&) { fn(root.get()); });
}

void ContainerManager::read_rootfs(const Container& c, Live& l, std::unique_lock<std::mutex>& op,
                                   const std::function<void(const std::string&)>& setup,
                                   const std::function<void(const std::string&)>& read) {
  ContainerRootfs rootfs(opts_.snapshot_root(), c.id);
  std::string merged = rootfs.mount(images_.layer_dirs(images_.get(c.image_id)));
  ++l.rootfs_borrowers;
  std::exception_ptr failed;
  try {
    in_private_mounts(
        op, [&] { setup(merged); }, [&] { read(merged); });
  } catch (...) {
    failed = std::current_exception();
  }
  give_back_rootfs(c.id, l);
  if (failed) std::rethrow_exception(failed);
}

void ContainerManager::give_back_rootfs(const std::string& id, Live& l) {
  // The last reader of a container that is not running unmounts what it mounted; a start
  // meanwhile found the mount and kept it, a removal meanwhile took it already.
  if (--l.rootfs_borrowers > 0 || l.removed) return;
  try {
    if (!store_.get(id).running()) ContainerRootfs(opts_.snapshot_root(), id).unmount();
  } catch (const std::exception& e) {
    if (kind_of(e) != ErrorKind::kNotFound)
      log::warn("unmount the root of " + id + ": " + e.what());
  }
}

void ContainerManager::finish_interrupted() {
  auto all = store_.list();
  std::set<std::string> ids;
  for (auto& c : all) ids.insert(c.id);
  // Directories of creates and removes cut short: nothing refers to them.
  sweep_unowned(path_join(opts_.exec_root, "containers"), ids,
                [&](const std::string& path, const std::string&) {
                  stop_unrecorded_shim(path, 10, [] {});
                  remove_all(path);
                });
  sweep_unowned(opts_.snapshot_root(), ids, [&](const std::string&, const std::string& id) {
    ContainerRootfs(opts_.snapshot_root(), id).remove();
  });
  sweep_unowned(path_join(opts_.data_root, "containers"), ids,
                [&](const std::string& path, const std::string&) {
                  unmount_shareable_shm(path);
                  remove_all(path);
                });
  for (auto& c : all) {
    if (c.running()) continue;
    // A start cut short before its record: the shim it made is stopped (its workload must
    // not run unseen) and what it mounted is let go. "created" or "exited" stays true.
    stop_unrecorded_shim(bundle_dir(c.id), 10, [&] { runtime_of(c)->remove(c.id, true); });
    ContainerRootfs rootfs(opts_.snapshot_root(), c.id);
    if (!is_mountpoint(rootfs.merged())) continue;
    try {
      rootfs.unmount();
      unmount_shareable_shm(container_dir(c.id));
      release_volumes(c);
    } catch (const std::exception& e) {
      log::warn("clean up after the interrupted start of " + c.id + ": " + e.what());
    }
  }
}

void ContainerManager::restore() {
  finish_interrupted();
  std::set<std::string> running;
  for (auto& c : store_.list())
    if (c.running()) running.insert(c.id);
  networks_.restore(running);
  for (auto& c : store_.list()) {
    auto l = live(c.id);
    if (c.running() || c.state.status == State::kRestarting) {
      std::string sock = path_join(bundle_dir(c.id), "shim.sock");
      bool alive = false;
      try {
        ShimConnection::connect(sock);
        alive = true;
      } catch (const std::exception&) {
      }
      if (alive) {
        {
          std::lock_guard lk(mu_);
          l->monitored = true;
        }
        l->started = std::chrono::steady_clock::now();
        std::thread([this, id = c.id] { monitor(id); }).detach();
        continue;
      }
      if (c.running()) {
        // Exited while berthd was down: the shim left the status behind.
        std::thread([this, id = c.id] { monitor(id); }).detach();
        continue;
      }
    }
    // A daemon start restarts `always` containers, and `unless-stopped` ones that nobody
    // stopped, as dockerd does.
    auto policy = c.host_config.value("RestartPolicy", json::object());
    std::string name = policy.is_object() ? policy.value("Name", "") : "";
    // "restarting": the policy had decided, and the start was cut short.
    bool again =
        c.state.status == State::kRestarting ||
        (name == "always" && c.state.status != State::kCreated) ||
        (name == "unless-stopped" && !c.state.stopped_by_user && c.state.status != State::kCreated);
    if (again && !c.running()) {
      std::thread([this, id = c.id] {
        try {
          start(id);
        } catch (const std::exception& e) {
          log::error("restart " + id + " on daemon start: " + e.what());
        }
      }).detach();
    }
  }
}

}  // namespace berth::engine
