#include "engine/container_top.h"

#include <algorithm>
#include <charconv>

#include "base/error.h"
#include "base/spawn.h"
#include "base/words.h"

namespace berth::engine {

using json = nlohmann::json;

namespace {

std::vector<std::string> fields(std::string_view line) {
  auto w = words(line);
  return {w.begin(), w.end()};
}

// A row with as many cells as titles: what overhangs (the command's arguments) is joined
// into the last cell.
json row(const std::vector<std::string>& f, size_t titles) {
  json r = json::array();
  size_t keep = titles > 0 ? titles - 1 : 0;
  for (size_t i = 0; i < keep && i < f.size(); i++) r.push_back(f[i]);
  std::string last;
  for (size_t i = keep; i < f.size(); i++) last += (last.empty() ? "" : " ") + f[i];
  r.push_back(last);
  return r;
}

}  // namespace

void check_ps_args(const std::string& ps_args) {
  // As dockerd's check: a word after white space, of the form NAME=PID...
  size_t i = 0;
  while ((i = ps_args.find_first_of(" \t\n\r\v\f", i)) != std::string::npos) {
    while (i < ps_args.size() && ascii_space(ps_args[i])) i++;
    size_t end = i;
    while (end < ps_args.size() && !ascii_space(ps_args[end])) end++;
    std::string word = ps_args.substr(i, end - i);
    size_t eq = word.find('=');
    if (eq != std::string::npos && word.compare(eq + 1, 3, "PID") == 0 &&
        word.substr(0, eq) != "pid")
      throw InvalidArgument("specifying \"" + word + "\" is not allowed");
    i = end;
  }
}

json parse_ps_table(const std::string& out, const std::vector<pid_t>& pids) {
  size_t eol = out.find('\n');
  auto titles = fields(std::string_view(out).substr(0, eol));
  auto pid_col = std::find(titles.begin(), titles.end(), "PID");
  if (pid_col == titles.end()) throw Error("Couldn't find PID field in ps output");
  size_t col = static_cast<size_t>(pid_col - titles.begin());
  json procs = json::array();
  bool in_container = false;  // the last process row was one of the container's
  while (eol != std::string::npos) {
    size_t start = eol + 1;
    eol = out.find('\n', start);
    auto f = fields(std::string_view(out).substr(
        start, eol == std::string::npos ? std::string::npos : eol - start));
    if (f.empty()) continue;
    if (f.size() <= col) throw Error("Unexpected ps output: " + out.substr(start, eol - start));
    if (f[col] == "-") {
      if (in_container) procs.push_back(row(f, titles.size()));
      continue;
    }
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(f[col].data(), f[col].data() + f[col].size(), pid);
    if (ec != std::errc() || end != f[col].data() + f[col].size())
      throw Error("Unexpected pid '" + f[col] + "'");
    in_container = std::find(pids.begin(), pids.end(), pid) != pids.end();
    if (in_container) procs.push_back(row(f, titles.size()));
  }
  return {{"Titles", titles}, {"Processes", procs}};
}

json ps_top(const std::vector<pid_t>& pids, const std::string& ps_args) {
  std::vector<std::string> argv = {"ps"};
  for (auto& a : fields(ps_args.empty() ? "-ef" : ps_args)) argv.push_back(a);
  // Asking ps for the container's pids alone (-q) spares it reading every process of the
  // host; some options (f) refuse -q, and then ps runs over all of them, as dockerd retries.
  std::string list = "-q";
  for (pid_t p : pids) list += (list.size() > 2 ? "," : "") + std::to_string(p);
  auto with_q = argv;
  with_q.push_back(list);
  auto ps = run_program(with_q);
  if (!ps) throw Unavailable("ps: executable file not found in $PATH");
  if (!ps->succeeded()) ps = run_program(argv);
  if (!ps->succeeded()) {
    // The first line of ps's complaint, or how it ended, as dockerd words it.
    SpawnOptions errors_only;
    errors_only.stdout_to = SpawnOptions::Output::kDiscard;
    errors_only.stderr_to = SpawnOptions::Output::kCapture;
    auto again = run_program(argv, errors_only);
    std::string why = again ? again->output.substr(0, again->output.find('\n')) : "";
    if (why.empty())
      why = WIFEXITED(ps->status) ? "exit status " + std::to_string(WEXITSTATUS(ps->status))
                                  : "signal: " + std::to_string(WTERMSIG(ps->status));
    throw Error("ps: " + why);
  }
  return parse_ps_table(ps->output, pids);
}

}  // namespace berth::engine
