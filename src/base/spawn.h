// The one way berth runs another program to its end: posix_spawn, so that no code of ours runs
// between fork and exec (a multi-threaded daemon must not allocate in a forked child), with
// the caller's blocked and ignored signals reset and no file descriptor beyond stdio passed.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace berth {

struct SpawnOptions {
  enum class Output { kDiscard, kCapture, kInherit };
  Output stdout_to = Output::kCapture;
  Output stderr_to = Output::kDiscard;  // kCapture: into the same text as stdout
  bool inherit_stdin = false;           // else /dev/null
};

struct ProgramResult {
  int status = 0;  // as waitpid gives it
  std::string output;
  bool succeeded() const;
  // "exited with status N" or "was killed by signal N".
  std::string how_it_ended() const;
};

// Runs argv (argv[0] looked up on PATH) and waits for it.
// nullopt when the program is not installed; throws Error for other failures to start it.
std::optional<ProgramResult> run_program(const std::vector<std::string>& argv,
                                         const SpawnOptions& opts = {});

}  // namespace berth
