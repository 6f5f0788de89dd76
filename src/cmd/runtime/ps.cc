// ps: the container's processes, as ps(1) prints them or as a JSON list of pids.
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

// Runs ps(1) with the caller's options (default -ef) and keeps the header and the lines of
// the container's processes. ps gets its arguments directly, never through a shell.
void print_ps_table(const std::vector<pid_t>& pids, std::vector<std::string> ps_args) {
  if (ps_args.empty()) ps_args = {"-ef"};
  ps_args.insert(ps_args.begin(), "ps");
  int p[2];
  if (::pipe2(p, O_CLOEXEC) < 0) throw_errno("pipe");
  UniqueFd rd(p[0]), wr(p[1]);
  pid_t child = ::fork();
  if (child < 0) throw_errno("fork ps");
  if (child == 0) {
    ::dup2(wr.get(), STDOUT_FILENO);
    std::vector<char*> argv;
    for (auto& a : ps_args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp("ps", argv.data());
    _exit(127);
  }
  wr.reset();
  std::string out = read_fd(rd.get());
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw Error("ps failed (is procps installed?)");
  int pid_col = -1;
  bool header = true;
  for (auto& line : split(out, '\n')) {
    std::vector<std::string> words;
    for (auto& w : split(line, ' '))
      if (!w.empty()) words.push_back(w);
    if (header) {
      for (size_t i = 0; i < words.size(); i++)
        if (words[i] == "PID") pid_col = static_cast<int>(i);
      if (pid_col < 0) throw Error("ps output has no PID column");
      std::cout << line << "\n";
      header = false;
      continue;
    }
    if (static_cast<size_t>(pid_col) >= words.size()) continue;
    pid_t pid = std::atoi(words[pid_col].c_str());
    if (std::find(pids.begin(), pids.end(), pid) != pids.end()) std::cout << line << "\n";
  }
}

}  // namespace

Verb add_ps(CLI::App& app) {
  auto format = std::make_shared<std::string>("table");
  auto* cmd = app.add_subcommand("ps", "list the processes of a container");
  cmd->add_option("-f,--format", *format, "table or json")->check(CLI::IsMember({"table", "json"}));
  // After the id come ps(1)'s own options, which CLI11 must not read as ours.
  cmd->prefix_command();
  return {cmd, [format, cmd](runtime::Runtime& rt) {
            auto rest = cmd->remaining();
            if (rest.empty()) throw Error("ps: a container id is required");
            auto pids = rt.pids(rest[0]);
            if (*format == "json") {
              std::cout << nlohmann::json(pids).dump() << "\n";
            } else {
              print_ps_table(pids, std::vector<std::string>(rest.begin() + 1, rest.end()));
            }
            return 0;
          }};
}

}  // namespace berth::runtime_cli
