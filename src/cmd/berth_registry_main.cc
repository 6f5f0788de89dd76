// berth-registry: the image registry server, with registry:2's command line
// (`serve CONFIG.yml`, `garbage-collect [--dry-run] [--delete-untagged] CONFIG.yml`).
#include <CLI/CLI.hpp>
#include <csignal>
#include <iostream>
#include <thread>

#include "base/log.h"
#include "registry/server.h"

namespace {

berth::log::Level level_of(const std::string& s) {
  if (s == "debug") return berth::log::Level::kDebug;
  if (s == "warn") return berth::log::Level::kWarn;
  if (s == "error") return berth::log::Level::kError;
  return berth::log::Level::kInfo;
}

// SIGTERM and SIGINT stop the server between requests, as `docker stop` expects.
void serve_until_signalled(berth::registry::RegistryServer& server) {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    server.stop();
  });
  server.run();
  // run() returns only once stop() closed the listener.
  waiter.join();
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"berth-registry: an OCI Distribution (Docker Registry v2) server"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("berth-registry ") + BERTH_VERSION);
  std::string config;
  auto* serve = app.add_subcommand("serve", "serve the registry API");
  serve->add_option("config", config, "registry:2 configuration file (default: built-in)");
  berth::registry::GcOptions gc;
  auto* collect = app.add_subcommand("garbage-collect", "remove blobs that no manifest references");
  collect->add_option("config", config, "registry:2 configuration file")->required();
  collect->add_flag("-d,--dry-run", gc.dry_run, "only print what would be removed");
  collect->add_flag("-m,--delete-untagged", gc.delete_untagged,
                    "also remove manifests that no tag references");
  CLI11_PARSE(app, argc, argv);
  try {
    berth::registry::ServerConfig c = berth::registry::load_config(config, std::cerr);
    berth::log::configure("", berth::log::Format::kText, level_of(c.log_level));
    if (collect->parsed()) {
      berth::registry::garbage_collect(c, gc, std::cout);
      return 0;
    }
    berth::registry::RegistryServer server(c);
    berth::log::info(
        "berth-registry " + std::string(BERTH_VERSION) + " listening on " + c.addr + " (port " +
        std::to_string(server.port()) + "), storage " + c.root +
        (c.tls_certificate.empty() ? "" : ", TLS") +
        (c.htpasswd_path.empty() ? "" : ", htpasswd auth") +
        (c.token_realm.empty() ? "" : ", token auth from " + c.token_realm) +
        (c.proxy_remoteurl.empty() ? "" : ", pull-through cache of " + c.proxy_remoteurl));
    serve_until_signalled(server);
  } catch (const std::exception& e) {
    std::cerr << "berth-registry: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
