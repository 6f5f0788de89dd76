// berth-runtime: the runc command line over berth's runtime library. The verbs live in
// cmd/runtime/, one file each; this only wires them and the global flags to CLI11.
#include <seccomp.h>

#include <iostream>

#include "base/log.h"
#include "cmd/runtime/verbs.h"

int main(int argc, char** argv) {
  namespace cli = berth::runtime_cli;
  CLI::App app{"an OCI container runtime with runc's command line", "berth-runtime"};
  app.require_subcommand(0, 1);
  cli::use_urfave_help(app);
  berth::runtime::RuntimeOptions ropts;
  std::string log_path, log_format = "text", rootless, criu;
  bool debug = false, version = false;
  app.add_option("--root", ropts.root, "where container state is kept");
  app.add_option("--log", log_path, "log file (default stderr)");
  app.add_option("--log-format", log_format, "text or json")
      ->check(CLI::IsMember({"text", "json"}));
  app.add_flag("--debug", debug, "log debug messages");
  app.add_flag("--systemd-cgroup", ropts.systemd_cgroup, "cgroupsPath in slice:prefix:name form");
  app.add_option("--rootless", rootless, "accepted for runc compatibility");
  app.add_option("--criu", criu, "accepted for runc compatibility");
  app.add_flag("-v,--version", version, "print the version");

  // Help lists the verbs in this order.
  const cli::Verb verbs[] = {cli::add_spec(app),   cli::add_create(app), cli::add_start(app),
                             cli::add_run(app),    cli::add_state(app),  cli::add_list(app),
                             cli::add_kill(app),   cli::add_delete(app), cli::add_exec(app),
                             cli::add_ps(app),     cli::add_pause(app),  cli::add_resume(app),
                             cli::add_events(app), cli::add_update(app), cli::add_features(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  try {
    berth::log::configure(
        log_path, log_format == "json" ? berth::log::Format::kJson : berth::log::Format::kLogrus,
        debug ? berth::log::Level::kDebug : berth::log::Level::kWarn);
    if (version) {
      // runc's lines, for the scripts that read them; no go: line, this is not Go.
      const scmp_version* sv = seccomp_version();
      std::cout << "berth-runtime version " << BERTH_VERSION << "\ncommit: v" << BERTH_VERSION
                << "\nspec: " << cli::kSpecVersion << "\nlibseccomp: " << sv->major << "."
                << sv->minor << "." << sv->micro << "\n";
      return 0;
    }
    berth::log::debug("berth-runtime " + [&] {
      std::string line;
      for (int i = 1; i < argc; i++) line += std::string(i > 1 ? " " : "") + argv[i];
      return line;
    }());
    berth::runtime::Runtime rt(ropts);
    for (auto& verb : verbs)
      if (verb.command->parsed()) return verb.run(rt);
    std::cout << app.help();
    return 0;
  } catch (const cli::ExitError& e) {
    if (!log_path.empty()) berth::log::error(e.what());
    std::cerr << "berth-runtime: " << e.what() << "\n";
    return e.status;
  } catch (const std::exception& e) {
    // Callers such as containerd read the error from the log file; people read stderr.
    if (!log_path.empty()) berth::log::error(e.what());
    std::cerr << "berth-runtime: " << e.what() << "\n";
    return 1;
  }
}
