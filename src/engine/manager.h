// The container manager: the lifecycle of containers from create to destroy, through their
// shims; exits, restart policies and the state kept across daemon restarts.
#pragma once

#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "base/sqlite.h"
#include "engine/container.h"
#include "engine/container_store.h"
#include "engine/events.h"
#include "engine/spec_builder.h"
#include "engine/volume_service.h"
#include "image/image_store.h"
#include "logfile/reader.h"
#include "network/network.h"
#include "runtime/oci_runtime.h"

namespace berth::engine {

class OomMonitor;

// The built-in runtime's name: berth's runtime, used as a library.
inline constexpr const char* kBuiltinRuntime = "berth";

// An OCI runtime binary that containers may name (daemon.json `runtimes`, --add-runtime).
struct RuntimeBinary {
  std::string path;
  std::vector<std::string> args;  // runtimeArgs: its global options
};

struct EngineOptions {
  std::string data_root;
  std::string exec_root;
  std::string shim_binary;
  // berth-init, mounted as /sbin/docker-init in containers created with HostConfig.Init, and
  // in those that leave it unset when `init` is the daemon's default (dockerd's --init).
  std::string init_binary;
  bool init_by_default = false;
  // Runtime binaries by name. "runc" names the built-in runtime unless a binary of that name
  // is configured: Docker users ask for runc when they mean the default.
  std::map<std::string, RuntimeBinary> runtimes;
  std::string default_runtime = kBuiltinRuntime;
  // dockerd's log-driver and log-opts: for containers that name no driver, and the options
  // of that driver where a container gives none of the same key.
  std::string log_driver = "json-file";
  std::map<std::string, std::string> log_opts;
  // Containers' writable layers, apart from the image layers in overlay/ so that the image
  // store's garbage collection never takes one for an orphaned layer.
  std::string snapshot_root() const { return data_root + "/overlay/containers"; }
};

struct AttachOptions {
  bool stdin = false, stdout = true, stderr = true;
  std::string detach_keys;
};

enum class WaitCondition { kNotRunning, kNextExit, kRemoved };

// A create, decoded at the door: Docker's Config, HostConfig and NetworkingConfig (kept to be
// echoed by inspect) and the typed spec the engine applies.
struct CreateRequest {
  std::string name;
  nlohmann::json config = nlohmann::json::object();
  nlohmann::json host_config = nlohmann::json::object();
  nlohmann::json networking = nlohmann::json::object();
  ContainerSpec spec;
};

struct Created {
  Container container;
  // What was asked and cannot be done here (a limit this kernel lacks), as dockerd says it.
  std::vector<std::string> warnings;
};

class ContainerManager {
 public:
  ContainerManager(EngineOptions opts, Db& db, image::ImageStore& images,
                   network::NetworkManager& networks, VolumeService& volumes, EventBus& events);
  ~ContainerManager();

  // After a daemon restart: reconnects to running containers' shims, records exits that
  // happened meanwhile, restarts containers whose policy says so.
  void restore();

  Created create(CreateRequest req);
  // Docker's network connect and disconnect of a container, running or not.
  void connect_network(const std::string& ref, const std::string& network,
                       const nlohmann::json& endpoint_config);
  void disconnect_network(const std::string& ref, const std::string& network, bool force);
  // Returns false when it was running already (Docker's 304).
  bool start(const std::string& ref);
  // Returns false when it was not running (304). `timeout` < 0: wait forever.
  bool stop(const std::string& ref, std::optional<int> timeout,
            std::optional<std::string> signal = std::nullopt);
  void kill(const std::string& ref, const std::string& signal);
  void restart(const std::string& ref, std::optional<int> timeout);
  // `volumes`: its anonymous volumes go too (rm -v), unless another container uses them.
  void remove(const std::string& ref, bool force, bool volumes = false);
  // `docker rm --link /me/alias`: drops the legacy link "alias" of container "me".
  void remove_link(const std::string& link_name);
  // Blocks until the condition holds; returns the exit code.
  int wait(const std::string& ref, WaitCondition cond);
  // Hands a hijacked client connection to the container's shim (now, or at start).
  // `ready` is called once the attachment is in place (the HTTP answer goes out then).
  void attach(const std::string& ref, UniqueFd conn, const AttachOptions& opts,
              const std::function<void()>& ready);
  void resize(const std::string& ref, int height, int width);
  void pause(const std::string& ref);
  void unpause(const std::string& ref);
  void rename(const std::string& ref, const std::string& name);
  nlohmann::json top(const std::string& ref, const std::string& ps_args);
  // Docker's /changes: [{"Path","Kind"}] from the container's writable layer.
  nlohmann::json changes(const std::string& ref);
  // Docker's /export: the container's file system as a tar, mounted for the time it takes
  // when the container is not running.
  void export_rootfs(const std::string& ref, const std::function<void(std::string_view)>& out);
  void update_restart_policy(const std::string& ref, const nlohmann::json& policy);
  // docker update's resources: checked against what the container has, recorded (inspect's
  // HostConfig and the next start), and applied to its cgroups now when it runs. Returns
  // dockerd's warnings for limits this kernel cannot apply.
  std::vector<std::string> update_resources(const std::string& ref, const ResourceUpdate& u);
  // Runs `fn` with an O_PATH directory fd of the container's root as its processes see it,
  // volumes and bind mounts included: a running container's through /proc, a stopped one's
  // mounted (in a mount namespace of its own) for the time `fn` takes. Resolve paths below it
  // with openat2(RESOLVE_IN_ROOT) so that no link in the container leads out of it.
  void with_root(const std::string& ref, const std::function<void(int root_fd)>& fn);

  Container get(const std::string& ref) const { return store_.get(ref); }
  std::vector<Container> list() const { return store_.list(); }
  // Docker's logs: the records `q` selects go to `emit` in order; with q.follow, more as they
  // come while the container runs and `keep_following` says yes. Throws InvalidArgument when
  // the container's logging driver keeps nothing to read.
  void read_logs(const std::string& ref, const logfile::Query& q,
                 const std::function<bool(const logfile::Entry&)>& emit,
                 const std::function<bool()>& keep_following) const;
  // The bytes in the container's writable layer (Docker's SizeRw).
  int64_t size_rw(const std::string& id) const;
  // The id of a container made from the image, or "".
  std::string image_user(const std::string& image_id) const;
  // The ids of the containers whose mounts name the volume.
  std::vector<std::string> volume_users(const std::string& name) const;
  const EngineOptions& options() const { return opts_; }
  // The running container's bundle: config.json (its OCI spec) and shim.sock (protocol.h),
  // for exec, which runs through the shim.
  std::string bundle_path(const std::string& id) const;
  // The container's root as its processes see it (the overlay's merged directory).
  std::string rootfs_path(const std::string& id) const;
  // Told when a container has started running (its state recorded, before the start event)
  // and when it has exited: the health monitor follows them. Set once, while wiring.
  void set_run_observer(std::function<void(const Container&, bool running)> fn) {
    run_observer_ = std::move(fn);
  }
  void set_health(const std::string& id, const std::optional<ContainerHealth>& health) {
    store_.set_health(id, health);
  }
  // Publishes a container event with Docker's attributes (name, image, labels) and `extra`.
  void event(const Container& c, const std::string& action,
             std::map<std::string, std::string> extra = {});

 private:
  struct Live;
  std::shared_ptr<Live> live(const std::string& id);
  std::string container_dir(const std::string& id) const;  // data root: logs, hosts
  std::string bundle_dir(const std::string& id) const;     // exec root: config.json, shim
  void start_locked(Container& c, Live& l);
  // After a kill -9: stops shims of starts that were never recorded, lets go of what they
  // mounted, and removes what half-done creates and removes left.
  void finish_interrupted();
  void monitor(std::string id);
  // `oom_kills`: the OOM killer's kills in the run, as the shim counted them.
  void on_exit(const std::string& id, int code, const std::string& finished_at, uint64_t oom_kills,
               const std::string& error);
  bool wait_exit(Live& l, uint64_t seq, int timeout_s);
  // Mounts the container's root (if it is not mounted), runs `setup` and then `read` with its
  // path on a thread whose mount namespace is its own, holding `op` only during the setup
  // (see in_private_mounts), and unmounts the root again when this was its last reader and
  // the container does not run. `op` is held when it returns.
  void read_rootfs(const Container& c, Live& l, std::unique_lock<std::mutex>& op,
                   const std::function<void(const std::string& merged)>& setup,
                   const std::function<void(const std::string& merged)>& read);
  void give_back_rootfs(const std::string& id, Live& l);
  void destroy(const Container& c, bool remove_volumes);
  // At the container's exit: its volumes' `unmount`, and their own mounts where unused now.
  void release_volumes(const Container& c);
  void send_kill(const Container& c, int signal);
  // The runtime the container names (its HostConfig.Runtime, else the default), with its
  // state root; throws InvalidArgument for a name that is not configured.
  runtime::RuntimeConfig runtime_config(const Container& c) const;
  std::unique_ptr<runtime::OciRuntime> runtime_of(const Container& c) const;
  network::ContainerInfo network_info(const Container& c) const;
  // Writes the container's hostname, hosts and resolv.conf files and returns the network
  // namespace it joins ("" for a new one or the host's).
  std::string prepare_network(const Container& c, const std::string& cdir, SpecPaths& paths);
  // Paths of the namespaces the container shares with others (--pid, --ipc container:NAME)
  // and the /dev/shm it binds (the host's, a donor's, or its own shareable one, mounted now).
  void join_namespaces(const Container& c, SpecPaths& paths) const;

  EngineOptions opts_;
  ContainerStore store_;
  image::ImageStore& images_;
  network::NetworkManager& networks_;
  VolumeService& volumes_;
  EventBus& events_;

  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::shared_ptr<Live>> live_;
  bool shutting_down_ = false;
  std::function<void(const Container&, bool running)> run_observer_;
  // Live oom events of the running containers; last, so that it stops first.
  std::unique_ptr<OomMonitor> oom_;
};

}  // namespace berth::engine
