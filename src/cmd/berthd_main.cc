// berthd: the engine daemon. Wiring only: the configuration (engine/daemon_config.h), the
// engine (engine/engine.h) and the API's routes over it.
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <climits>
#include <iostream>
#include <map>
#include <thread>

#include "api/metrics_server.h"
#include "api/routes.h"
#include "api/server.h"
#include "base/crash_log.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/memory.h"
#include "engine/engine.h"

namespace {

using berth::Error;

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
  berth::engine::DaemonConfig o;
  berth::engine::add_daemon_flags(app, o);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  berth::install_crash_log("berthd");
  // Before any thread exists: every thread inherits the mask, and only the signal thread
  // below takes these signals (one delivered to another thread would kill the daemon).
  sigset_t sigs;
  sigemptyset(&sigs);
  for (int s : {SIGINT, SIGTERM, SIGHUP}) sigaddset(&sigs, s);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  try {
    berth::engine::finish_daemon_config(o, app);
    apply_log_level(o.log_level);
    o.shim_binary = sibling_binary("berth-shim");
    o.init_binary = sibling_binary("berth-init");
    o.runtime_binary = sibling_binary("berth-runtime");
    std::string socket_path = o.socket_path();

    berth::mkdir_p(o.data_root, 0710);
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

    berth::engine::Engine engine(o);
    berth::api::Router router;
    berth::api::add_routes(router, engine, engine_id(o.data_root));
    engine.restore();
    std::unique_ptr<berth::api::MetricsEndpoint> metrics;
    if (!o.metrics_addr.empty())
      metrics = std::make_unique<berth::api::MetricsEndpoint>(o.metrics_addr, router, engine);

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
            auto level = berth::engine::reload_log_level(o, app);
            apply_log_level(level);
            berth::log::info("reloaded " + o.config_file + ": log level " + level);
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
