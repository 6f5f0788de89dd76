// events: the container's stats as runc's JSON lines, once (--stats) or every --interval,
// and an "oom" line whenever the kernel's OOM killer strikes in the container's cgroup.
#include <time.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <iostream>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

using Nanos = std::chrono::nanoseconds;

// Go's time.ParseDuration, as runc's --interval takes it: "5s", "100ms", "1m30s", "1.5h".
Nanos parse_go_duration(const std::string& text) {
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1},   {"us", 1e3}, {"\u00b5s", 1e3}, {"\u03bcs", 1e3},
      {"ms", 1e6}, {"s", 1e9},  {"m", 60e9},      {"h", 3600e9}};
  auto bad = [&] { return Error("time: invalid duration \"" + text + "\""); };
  std::string s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.erase(0, 1);
  }
  if (s == "0") return Nanos(0);
  if (s.empty()) throw bad();
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
    if (i == start) throw bad();
    double value;
    try {
      value = std::stod(s.substr(start, i - start));
    } catch (const std::exception&) {
      throw bad();
    }
    size_t unit_start = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') i++;
    std::string unit = s.substr(unit_start, i - unit_start);
    if (unit.empty()) throw Error("time: missing unit in duration \"" + text + "\"");
    bool known = false;
    for (auto& [name, scale] : kUnits)
      if (unit == name) {
        total += value * scale;
        known = true;
      }
    if (!known) throw Error("time: unknown unit \"" + unit + "\" in duration \"" + text + "\"");
  }
  return Nanos(static_cast<int64_t>(std::llround(negative ? -total : total)));
}

void print(const std::string& type, const std::string& id, const nlohmann::json* data) {
  // runc's key order: type, id, data (none for oom).
  nlohmann::ordered_json ev = {{"type", type}, {"id", id}};
  if (data) ev["data"] = *data;
  // Flushed per line: a reader follows the stream as it comes.
  std::cout << ev.dump() << std::endl;
}

void sleep_for(Nanos d) {
  timespec ts{static_cast<time_t>(d.count() / 1000000000),
              static_cast<long>(d.count() % 1000000000)};
  while (::nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

}  // namespace

Verb add_events(CLI::App& app) {
  struct Args {
    bool once = false;
    std::string interval = "5s";
    std::string id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("events", "display container events and statistics");
  cmd->add_flag("--stats", a->once, "display the container's stats then exit");
  cmd->add_option("--interval", a->interval, "set the stats collection interval (default: 5s)");
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            Nanos interval = parse_go_duration(a->interval);
            if (interval <= Nanos(0)) throw Error("duration interval must be greater than 0");
            if (rt.state(a->id).status == runtime::Status::kStopped)
              throw Error("container with id " + a->id + " is not running");
            if (a->once) {
              auto data = rt.stats(a->id);
              print("stats", a->id, &data);
              return 0;
            }
            // OOM kills are looked for at least every 100 ms, stats every interval.
            const Nanos tick = std::min(interval, Nanos(std::chrono::milliseconds(100)));
            uint64_t ooms = rt.oom_kills(a->id);
            auto next_stats = std::chrono::steady_clock::now();
            for (;;) {
              if (rt.state(a->id).status == runtime::Status::kStopped) return 0;
              if (uint64_t now = rt.oom_kills(a->id); now > ooms) {
                ooms = now;
                print("oom", a->id, nullptr);
              }
              if (std::chrono::steady_clock::now() >= next_stats) {
                auto data = rt.stats(a->id);
                print("stats", a->id, &data);
                next_stats += interval;
              }
              sleep_for(tick);
            }
          }};
}

}  // namespace berth::runtime_cli
