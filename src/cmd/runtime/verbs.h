// berth-runtime's verbs, one file each: every add_*() registers its subcommand and flags on
// the app and returns what to do once they are parsed. main() only wires them together.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <stdexcept>
#include <string>

#include "runtime/runtime.h"

namespace berth::runtime_cli {

struct Verb {
  CLI::App* command;
  // Runs the parsed verb; returns the exit status. Errors are thrown, for main to report.
  std::function<int(runtime::Runtime&)> run;
};

Verb add_spec(CLI::App& app);
Verb add_create(CLI::App& app);
Verb add_start(CLI::App& app);
Verb add_run(CLI::App& app);
Verb add_state(CLI::App& app);
Verb add_list(CLI::App& app);
Verb add_kill(CLI::App& app);
Verb add_delete(CLI::App& app);
Verb add_exec(CLI::App& app);
Verb add_ps(CLI::App& app);
Verb add_pause(CLI::App& app);
Verb add_resume(CLI::App& app);
Verb add_events(CLI::App& app);
Verb add_update(CLI::App& app);
Verb add_features(CLI::App& app);

// The OCI runtime spec version this runtime implements, as `--version` and help print it.
inline constexpr const char* kSpecVersion = "1.2.0";

// A failure that exits with `status` rather than 1: runc's 255 for a failed exec, which a
// caller tells apart from the process's own exit status.
struct ExitError : std::runtime_error {
  ExitError(const std::string& msg, int status) : std::runtime_error(msg), status(status) {}
  int status;
};

// Help in runc's (urfave/cli's) layout, for the app and its subcommands.
void use_urfave_help(CLI::App& app);

// The flags `create` and `run` share.
void add_create_flags(CLI::App& command, runtime::CreateOptions& opts);

}  // namespace berth::runtime_cli
