// berthd: the engine daemon. Flags and daemon.json as dockerd's where they mean the same.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/router.h"
#include "api/server.h"
#include "api/services.h"
#include "api/system_routes.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/memory.h"
#include "base/sqlite.h"
#include "engine/events.h"
#include "engine/manager.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "logfile/config.h"
#include "network/network.h"

namespace {

using berth::Error;

struct Options {
  std::string data_root = "/var/lib/berth";
  std::string exec_root = "/run/berth";
  std::vector<std::string> hosts;
  std::string config_file = "/etc/berth/daemon.json";
  std::string log_level = "info";
  std::string pidfile;
  // Networking, as dockerd's flags and daemon.json keys of the same names.
  std::string bridge = "berth0";
  std::string bip;
  std::vector<std::string> dns, dns_search, dns_opts;
  int mtu = 0;
  bool icc = true;
  std::vector<berth::network::AddressPool> pools;
  bool init = false;
  // OCI runtime binaries as dockerd's --add-runtime NAME=PATH and daemon.json `runtimes`.
  std::vector<std::string> add_runtimes;
  std::map<std::string, berth::engine::RuntimeBinary> runtimes;
  std::string default_runtime = berth::engine::kBuiltinRuntime;
  // The default logging driver and its options (dockerd's --log-driver, --log-opt).
  std::string log_driver = "json-file";
  std::vector<std::string> log_opt_flags;
  std::map<std::string, std::string> log_opts;
};

// daemon.json fills what the command line left unset, as dockerd does; a key given in both
// places is an error there too.
void apply_config_file(Options& o, const CLI::App& app) {
  auto text = berth::read_file_if_exists(o.config_file);
  if (!text) {
    if (app.count("--config-file")) throw Error("config file " + o.config_file + " does not exist");
    return;
  }
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(*text);
  } catch (const nlohmann::json::parse_error& e) {
    throw Error("config file " + o.config_file + ": malformed JSON: " + e.what());
  }
  if (!j.is_object()) throw Error("config file " + o.config_file + ": expected an object");
  // Whether daemon.json sets `key`; setting it there and by `flag` as well is dockerd's error.
  auto in_file = [&](const char* key, const char* flag) {
    if (!j.contains(key)) return false;
    if (app.count(flag))
      throw Error(std::string("the following directives are specified both as a flag and in the "
                              "configuration file: ") +
                  key);
    return true;
  };
  auto take = [&](const char* key, const char* flag, std::string& field) {
    if (!in_file(key, flag)) return;
    if (!j[key].is_string()) throw Error(o.config_file + ": " + key + ": expected a string");
    field = j[key];
  };
  take("data-root", "--data-root", o.data_root);
  take("exec-root", "--exec-root", o.exec_root);
  take("log-level", "--log-level", o.log_level);
  if (j.contains("debug") && j["debug"] == true && !app.count("--log-level")) o.log_level = "debug";
  static const std::set<std::string> kUsed = {"data-root",
                                              "exec-root",
                                              "log-level",
                                              "pidfile",
                                              "hosts",
                                              "debug",
                                              "bridge",
                                              "bip",
                                              "dns",
                                              "dns-search",
                                              "dns-opts",
                                              "mtu",
                                              "icc",
                                              "default-address-pools",
                                              "init",
                                              "runtimes",
                                              "default-runtime",
                                              "log-driver",
                                              "log-opts"};
  // Keys of dockerd's daemon.json that berthd does not act on (yet) are accepted with a
  // warning, so that a Docker configuration works; anything else is a mistake.
  static const std::set<std::string> kDockerOnly = {"live-restore",
                                                    "registry-mirrors",
                                                    "insecure-registries",
                                                    "storage-driver",
                                                    "storage-opts",
                                                    "iptables",
                                                    "ip6tables",
                                                    "ip-forward",
                                                    "ip-masq",
                                                    "default-ulimits",
                                                    "exec-opts",
                                                    "experimental",
                                                    "features",
                                                    "builder",
                                                    "default-shm-size",
                                                    "userland-proxy",
                                                    "max-concurrent-downloads",
                                                    "max-concurrent-uploads",
                                                    "shutdown-timeout",
                                                    "group",
                                                    "tls",
                                                    "tlsverify",
                                                    "tlscacert",
                                                    "tlscert",
                                                    "tlskey"};
  std::string unknown;
  for (auto& [key, value] : j.items()) {
    if (kUsed.count(key)) continue;
    if (kDockerOnly.count(key)) {
      berth::log::warn(o.config_file + ": " + key + " is not supported yet and is ignored");
      continue;
    }
    unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty())
    throw Error("the following directives don't match any configuration option: " + unknown);
  take("pidfile", "--pidfile", o.pidfile);
  take("log-driver", "--log-driver", o.log_driver);
  if (in_file("log-opts", "--log-opt")) {
    auto& opts = j["log-opts"];
    if (!opts.is_object()) throw Error(o.config_file + ": log-opts: expected an object");
    for (auto& [k, v] : opts.items()) {
      if (!v.is_string()) throw Error(o.config_file + ": log-opts: " + k + ": expected a string");
      o.log_opts[k] = v.get<std::string>();
    }
  }
  take("default-runtime", "--default-runtime", o.default_runtime);
  if (in_file("runtimes", "--add-runtime")) {
    if (!j["runtimes"].is_object()) throw Error(o.config_file + ": runtimes: expected an object");
    for (auto& [name, r] : j["runtimes"].items()) {
      std::string where = o.config_file + ": runtimes: " + name;
      if (!r.is_object() || !r.contains("path") || !r["path"].is_string())
        throw Error(where + ": expected an object with a path");
      berth::engine::RuntimeBinary b{r["path"], {}};
      if (r.contains("runtimeArgs")) {
        auto& args = r["runtimeArgs"];
        if (!args.is_array()) throw Error(where + ": runtimeArgs: expected a list");
        for (auto& a : args) {
          if (!a.is_string()) throw Error(where + ": runtimeArgs: expected strings");
          b.args.push_back(a);
        }
      }
      o.runtimes[name] = b;
    }
  }
  take("bridge", "--bridge", o.bridge);
  take("bip", "--bip", o.bip);
  auto take_list = [&](const char* key, const char* flag, std::vector<std::string>& field) {
    if (!in_file(key, flag)) return;
    if (!j[key].is_array()) throw Error(o.config_file + ": " + key + ": expected a list");
    field = j[key].get<std::vector<std::string>>();
  };
  take_list("dns", "--dns", o.dns);
  take_list("dns-search", "--dns-search", o.dns_search);
  take_list("dns-opts", "--dns-opt", o.dns_opts);
  if (j.contains("mtu")) {
    if (!j["mtu"].is_number_integer()) throw Error(o.config_file + ": mtu: expected a number");
    o.mtu = j["mtu"];
  }
  if (j.contains("icc")) {
    if (!j["icc"].is_boolean()) throw Error(o.config_file + ": icc: expected true or false");
    o.icc = j["icc"];
  }
  if (j.contains("init") && !app.count("--init")) {
    if (!j["init"].is_boolean()) throw Error(o.config_file + ": init: expected true or false");
    o.init = j["init"];
  }
  if (j.contains("default-address-pools")) {
    auto& pools = j["default-address-pools"];
    if (!pools.is_array()) throw Error(o.config_file + ": default-address-pools: expected a list");
    for (auto& p : pools) {
      if (!p.is_object() || !p.contains("base") || !p.contains("size"))
        throw Error(o.config_file + ": default-address-pools: each needs a base and a size");
      berth::network::AddressPool pool{
          berth::network::Ipv4Prefix::parse(p["base"].get<std::string>(), "pool base"),
          p["size"].get<int>()};
      if (pool.size < pool.base.len || pool.size > 30)
        throw Error(o.config_file + ": default-address-pools: invalid size " +
                    std::to_string(pool.size) + " for base " + pool.base.str());
      o.pools.push_back(pool);
    }
  }
  if (j.contains("hosts") && !app.count("--host"))
    o.hosts = j["hosts"].get<std::vector<std::string>>();
}

// Adds the --add-runtime flags to the runtimes and checks the names, with dockerd's words.
void collect_runtimes(Options& o) {
  for (auto& spec : o.add_runtimes) {
    auto eq = spec.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == spec.size())
      throw Error("invalid runtime argument: " + spec);
    o.runtimes[spec.substr(0, eq)] = {spec.substr(eq + 1), {}};
  }
  for (auto& [name, binary] : o.runtimes) {
    if (name == berth::engine::kBuiltinRuntime)
      throw Error("runtime name '" + name + "' is reserved");
    if (binary.path.empty()) throw Error("runtime " + name + " has no path");
  }
  if (o.default_runtime != berth::engine::kBuiltinRuntime && o.default_runtime != "runc" &&
      !o.runtimes.count(o.default_runtime))
    throw Error("specified default runtime '" + o.default_runtime + "' does not exist");
}

void apply_log_level(const std::string& level) {
  using berth::log::Level;
  static const std::map<std::string, Level> kLevels = {{"debug", Level::kDebug},
                                                       {"info", Level::kInfo},
                                                       {"warn", Level::kWarn},
                                                       {"error", Level::kError},
                                                       {"fatal", Level::kError}};
  auto it = kLevels.find(level);
  if (it == kLevels.end()) throw Error("invalid log level " + level);
  berth::log::configure("", berth::log::Format::kText, it->second);
}

std::string engine_id(const std::string& data_root) {
  auto path = berth::path_join(data_root, "engine-id");
  if (auto id = berth::read_file_if_exists(path)) return berth::trim(*id);
  unsigned char raw[16];
  auto fd = berth::open_or_throw("/dev/urandom", O_RDONLY);
  if (::read(fd.get(), raw, sizeof raw) != sizeof raw) berth::throw_errno("read /dev/urandom");
  static const char kHex[] = "0123456789abcdef";
  std::string id;
  for (auto b : raw) {
    id.push_back(kHex[b >> 4]);
    id.push_back(kHex[b & 0xf]);
  }
  berth::write_file_atomic(path, id + "\n", 0600);
  return id;
}

// The berth binaries are installed side by side.
std::string sibling_binary(const std::string& name) {
  char buf[PATH_MAX];
  ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  std::string self = n > 0 ? std::string(buf, static_cast<size_t>(n)) : "berthd";
  return self.substr(0, self.rfind('/') + 1) + name;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berthd: the berth engine daemon, speaking the Docker Engine API"};
  Options o;
  app.add_option("--data-root", o.data_root, "root of persisted state");
  app.add_option("--exec-root", o.exec_root, "root of runtime state (sockets)");
  app.add_option("-H,--host", o.hosts, "socket to listen on (unix://PATH)");
  app.add_option("--config-file", o.config_file, "daemon configuration file");
  app.add_option("-l,--log-level", o.log_level, "debug, info, warn, error")
      ->check(CLI::IsMember({"debug", "info", "warn", "error", "fatal"}));
  app.add_option("-p,--pidfile", o.pidfile, "path of the pid file");
  app.add_option("-b,--bridge", o.bridge, "the default network's bridge device");
  app.add_option("--bip", o.bip, "the default bridge's address and prefix (CIDR)");
  app.add_option("--dns", o.dns, "upstream DNS servers for containers");
  app.add_option("--dns-search", o.dns_search, "DNS search domains for containers");
  app.add_option("--dns-opt", o.dns_opts, "DNS options for containers");
  app.add_option("--mtu", o.mtu, "MTU of container networks (default: the uplink's)");
  app.add_option("--icc", o.icc, "inter-container traffic on the default bridge");
  app.add_option("--add-runtime", o.add_runtimes,
                 "an OCI runtime binary containers may use: NAME=PATH (--runtime NAME)");
  app.add_option("--default-runtime", o.default_runtime,
                 "the runtime of containers that name none (default: the built-in berth)");
  app.add_option("--log-driver", o.log_driver, "the default logging driver of containers");
  app.add_option("--log-opt", o.log_opt_flags,
                 "an option of the default logging driver: KEY=VALUE");
  app.add_flag("--init", o.init, "run an init in containers that do not say whether they want one");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  // Before any thread exists: every thread inherits the mask, and only the signal thread
  // below takes these signals (one delivered to another thread would kill the daemon).
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    apply_config_file(o, app);
    for (auto& kv : o.log_opt_flags) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) throw Error("invalid log opt " + kv + ": expected KEY=VALUE");
      o.log_opts[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    try {
      berth::logfile::parse_config(o.log_driver, o.log_opts);
    } catch (const std::exception& e) {
      throw Error(std::string("failed to set log opts: ") + e.what());
    }
    collect_runtimes(o);
    apply_log_level(o.log_level);
    if (o.hosts.empty()) o.hosts = {"unix://" + berth::path_join(o.exec_root, "berth.sock")};
    if (o.hosts.size() != 1 || o.hosts[0].rfind("unix://", 0) != 0)
      throw Error("only one unix:// host is supported, got " + o.hosts[0]);
    std::string socket_path = o.hosts[0].substr(7);
    if (o.pidfile.empty()) o.pidfile = berth::path_join(o.exec_root, "berthd.pid");

    berth::mkdir_p(o.data_root, 0711);
    berth::mkdir_p(o.exec_root, 0711);
    // One daemon per data root: the lock lives as long as this process.
    auto lock_path = berth::path_join(o.data_root, "berthd.lock");
    auto lock = berth::open_or_throw(lock_path, O_RDWR | O_CREAT, 0600);
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) < 0) {
      auto other = berth::trim(berth::read_file(lock_path));
      throw Error("another berthd (pid " + (other.empty() ? "?" : other) + ") is using data root " +
                  o.data_root);
    }
    ::ftruncate(lock.get(), 0);
    berth::write_all(lock.get(), std::to_string(::getpid()));

    berth::Db db(berth::path_join(o.data_root, "berth.db"), "");
    berth::image::ContentStore content(berth::path_join(o.data_root, "content"));
    berth::image::ImageStore images(db, content, berth::path_join(o.data_root, "overlay"));
    // What a kill -9 left half done (a layer being unpacked, a blob being written) goes now.
    content.clear_temporary();
    images.collect_garbage();
    berth::engine::EventBus events;
    berth::network::NetworkOptions net;
    net.exec_root = o.exec_root;
    net.default_bridge = o.bridge;
    net.bip = o.bip;
    net.pools = o.pools;
    net.dns = o.dns;
    net.dns_search = o.dns_search;
    net.dns_options = o.dns_opts;
    net.mtu = o.mtu;
    net.icc = o.icc;
    berth::network::NetworkManager networks(net, db);
    berth::engine::ContainerManager containers(
        {o.data_root, o.exec_root, sibling_binary("berth-shim"), sibling_binary("berth-init"),
         o.init, o.runtimes, o.default_runtime, o.log_driver, o.log_opts},
        db, images, networks, events);
    images.set_in_use([&](const std::string& id) { return containers.image_user(id); });
    berth::api::Services services{images, content, events, containers, networks};

    berth::api::Router router;
    berth::api::add_system_routes(
        router, {engine_id(o.data_root), o.data_root, o.exec_root, sibling_binary("berth-runtime")},
        services);
    berth::api::add_image_routes(router, services);
    berth::api::add_image_transfer_routes(router, services);
    berth::api::add_event_routes(router, services);
    berth::api::add_container_routes(router, services);
    berth::api::add_commit_routes(router, services);
    berth::api::add_exec_routes(router, services);
    berth::api::add_network_routes(router, services);
    // Live restore: containers kept running while berthd was away are found again.
    containers.restore();

    berth::mkdir_p(socket_path.substr(0, socket_path.rfind('/')), 0711);
    berth::api::Server server(router, socket_path, 0660);
    berth::write_file_atomic(o.pidfile, std::to_string(::getpid()) + "\n");
    std::thread signals([&] {
      for (;;) {
        int sig = 0;
        sigwait(&sigs, &sig);
        if (sig == SIGHUP) {
          // What can change without a restart: the log level. A bad file keeps the old one.
          try {
            Options fresh = o;
            if (!app.count("--log-level")) fresh.log_level = "info";
            apply_config_file(fresh, app);
            apply_log_level(fresh.log_level);
            berth::log::info("reloaded " + o.config_file + ": log level " + fresh.log_level);
          } catch (const std::exception& e) {
            berth::log::error(std::string("reload: ") + e.what());
          }
          continue;
        }
        berth::log::info(std::string("shutting down on ") + sigabbrev_np(sig));
        server.stop();
        return;
      }
    });
    berth::log::info("API listening on " + socket_path);
    // An idle daemon keeps only what it uses: start-up touched much of its libraries.
    berth::release_startup_memory(true);
    server.run();
    signals.join();
    ::unlink(o.pidfile.c_str());
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "berthd: " << e.what() << "\n";
    return 1;
  }
}
