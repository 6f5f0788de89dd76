#include "engine/daemon_config.h"

#include <nlohmann/json.hpp>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "logfile/config.h"

namespace berth::engine {
namespace {

// daemon.json fills what the command line left unset, as dockerd does; a key given in both
// places is an error there too.
void apply_config_file(DaemonConfig& o, const CLI::App& app) {
  auto text = read_file_if_exists(o.config_file);
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
                                              "log-opts",
                                              "insecure-registries",
                                              "metrics-addr"};
  // Keys of dockerd's daemon.json that berthd does not act on (yet) are accepted with a
  // warning, so that a Docker configuration works; anything else is a mistake.
  static const std::set<std::string> kDockerOnly = {"live-restore",
                                                    "registry-mirrors",
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
                                                    "shutdown-timeout"};
  // Settings that protect the API socket: starting without them would leave it more open
  // than its owner believes, so a berthd that cannot apply them does not start.
  static const std::set<std::string> kProtective = {"group",     "tls",     "tlsverify",
                                                    "tlscacert", "tlscert", "tlskey"};
  std::string unknown;
  for (auto& [key, value] : j.items()) {
    if (kUsed.count(key)) continue;
    if (kProtective.count(key)) {
      bool asked = !(value.is_null() || (value.is_boolean() && !value.get<bool>()) ||
                     (value.is_string() && value.get_ref<const std::string&>().empty()));
      if (asked)
        throw Error(o.config_file + ": " + key +
                    " is not supported by berthd yet; refusing to start with the API socket less "
                    "protected than configured");
      continue;
    }
    if (kDockerOnly.count(key)) {
      log::warn(o.config_file + ": " + key + " is not supported yet and is ignored");
      continue;
    }
    unknown += (unknown.empty() ? "" : ", ") + key;
  }
  if (!unknown.empty())
    throw Error("the following directives don't match any configuration option: " + unknown);
  take("pidfile", "--pidfile", o.pidfile);
  take("metrics-addr", "--metrics-addr", o.metrics_addr);
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
      RuntimeBinary b{r["path"], {}};
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
  take_list("insecure-registries", "--insecure-registry", o.insecure_registries);
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
      network::AddressPool pool{
          network::Ipv4Prefix::parse(p["base"].get<std::string>(), "pool base"),
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
void collect_runtimes(DaemonConfig& o) {
  for (auto& spec : o.add_runtimes) {
    auto eq = spec.find('=');
    if (eq == 0 || eq == std::string::npos || eq + 1 == spec.size())
      throw Error("invalid runtime argument: " + spec);
    o.runtimes[spec.substr(0, eq)] = {spec.substr(eq + 1), {}};
  }
  for (auto& [name, binary] : o.runtimes) {
    if (name == kBuiltinRuntime) throw Error("runtime name '" + name + "' is reserved");
    if (binary.path.empty()) throw Error("runtime " + name + " has no path");
  }
  if (o.default_runtime != kBuiltinRuntime && o.default_runtime != "runc" &&
      !o.runtimes.count(o.default_runtime))
    throw Error("specified default runtime '" + o.default_runtime + "' does not exist");
}

}  // namespace

std::string DaemonConfig::socket_path() const {
  return hosts.empty() ? path_join(exec_root, "berth.sock") : hosts[0].substr(7);
}

EngineOptions DaemonConfig::engine_options() const {
  return {data_root, exec_root,       shim_binary, init_binary, init,
          runtimes,  default_runtime, log_driver,  log_opts};
}

network::NetworkOptions DaemonConfig::network_options() const {
  network::NetworkOptions net;
  net.exec_root = exec_root;
  net.default_bridge = bridge;
  net.bip = bip;
  net.pools = pools;
  net.dns = dns;
  net.dns_search = dns_search;
  net.dns_options = dns_opts;
  net.mtu = mtu;
  net.icc = icc;
  return net;
}

void add_daemon_flags(CLI::App& app, DaemonConfig& o) {
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
  app.add_option("--insecure-registry", o.insecure_registries,
                 "a registry spoken to over plain HTTP: HOST[:PORT] or a CIDR");
  app.add_option("--mtu", o.mtu, "MTU of container networks (default: the uplink's)");
  app.add_option("--icc", o.icc, "inter-container traffic on the default bridge");
  app.add_option("--add-runtime", o.add_runtimes,
                 "an OCI runtime binary containers may use: NAME=PATH (--runtime NAME)");
  app.add_option("--default-runtime", o.default_runtime,
                 "the runtime of containers that name none (default: the built-in berth)");
  app.add_option("--log-driver", o.log_driver, "the default logging driver of containers");
  app.add_option("--log-opt", o.log_opt_flags,
                 "an option of the default logging driver: KEY=VALUE");
  app.add_option("--metrics-addr", o.metrics_addr,
                 "serve Prometheus metrics on HOST:PORT (off by default; :PORT is loopback's)");
  app.add_flag("--init", o.init, "run an init in containers that do not say whether they want one");
}

void finish_daemon_config(DaemonConfig& o, const CLI::App& app) {
  apply_config_file(o, app);
  for (auto& kv : o.log_opt_flags) {
    auto eq = kv.find('=');
    if (eq == std::string::npos) throw Error("invalid log opt " + kv + ": expected KEY=VALUE");
    o.log_opts[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  try {
    logfile::parse_config(o.log_driver, o.log_opts);
  } catch (const std::exception& e) {
    throw Error(std::string("failed to set log opts: ") + e.what());
  }
  collect_runtimes(o);
  if (o.hosts.size() > 1 || (o.hosts.size() == 1 && o.hosts[0].rfind("unix://", 0) != 0))
    throw Error("only one unix:// host is supported, got " + o.hosts[0]);
  if (o.pidfile.empty()) o.pidfile = path_join(o.exec_root, "berthd.pid");
}

std::string reload_log_level(const DaemonConfig& cfg, const CLI::App& app) {
  DaemonConfig fresh = cfg;
  if (!app.count("--log-level")) fresh.log_level = "info";
  apply_config_file(fresh, app);
  return fresh.log_level;
}

}  // namespace berth::engine
