// berthd's configuration, typed: dockerd's flags and daemon.json keys of the same names, read
// in one place (flags first, then the file fills what they left unset, as dockerd does).
#pragma once

#include <CLI/CLI.hpp>
#include <map>
#include <string>
#include <vector>

#include "engine/manager.h"
#include "network/network.h"

namespace berth::engine {

struct DaemonConfig {
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
  std::vector<network::AddressPool> pools;
  bool init = false;
  // Registries spoken to over plain HTTP (127.0.0.0/8 always is), as dockerd's.
  std::vector<std::string> insecure_registries;
  // OCI runtime binaries as dockerd's --add-runtime NAME=PATH and daemon.json `runtimes`.
  std::vector<std::string> add_runtimes;
  std::map<std::string, RuntimeBinary> runtimes;
  std::string default_runtime = kBuiltinRuntime;
  // The default logging driver and its options (dockerd's --log-driver, --log-opt).
  std::string log_driver = "json-file";
  std::vector<std::string> log_opt_flags;
  std::map<std::string, std::string> log_opts;
  // Where Prometheus scrapes berthd (dockerd's metrics-addr): HOST:PORT, off when empty.
  std::string metrics_addr;
  // The berth binaries installed beside berthd.
  std::string shim_binary, init_binary, runtime_binary;

  // The socket the API listens on (the one unix:// host).
  std::string socket_path() const;
  EngineOptions engine_options() const;
  network::NetworkOptions network_options() const;
};

// Declares dockerd's flags on `app`, bound to `cfg`.
void add_daemon_flags(CLI::App& app, DaemonConfig& cfg);
// After app.parse(): daemon.json, --log-opt and --add-runtime merged and checked, with
// dockerd's words for what is wrong. Throws Error.
void finish_daemon_config(DaemonConfig& cfg, const CLI::App& app);
// The log level of daemon.json as a reload sees it (SIGHUP): the flag's, else the file's.
std::string reload_log_level(const DaemonConfig& cfg, const CLI::App& app);

}  // namespace berth::engine
