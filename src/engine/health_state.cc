#include "engine/health_state.h"

#include <cstdio>

namespace berth::engine {

using nlohmann::json;

std::vector<std::string> HealthCheck::command(const json& config) const {
  std::vector<std::string> cmd;
  if (test.empty()) return cmd;
  if (test[0] == "CMD-SHELL") {
    auto shell = config.value("Shell", json(nullptr));
    if (shell.is_array() && !shell.empty()) {
      for (auto& s : shell)
        if (s.is_string()) cmd.push_back(s.get<std::string>());
    } else {
      cmd = {"/bin/sh", "-c"};
    }
  }
  cmd.insert(cmd.end(), test.begin() + 1, test.end());
  return cmd;
}

std::optional<HealthCheck> health_check_of(const json& config) {
  auto it = config.find("Healthcheck");
  if (it == config.end() || !it->is_object()) return std::nullopt;
  const json& hc = *it;
  HealthCheck c;
  if (auto t = hc.find("Test"); t != hc.end() && t->is_array())
    for (auto& v : *t)
      if (v.is_string()) c.test.push_back(v.get<std::string>());
  if (c.test.empty() || c.test[0] == "NONE") return std::nullopt;
  // A Test that is neither CMD nor CMD-SHELL cannot run: dockerd treats it as no check.
  if (c.test[0] != "CMD" && c.test[0] != "CMD-SHELL") return std::nullopt;
  if (c.test.size() < 2) return std::nullopt;
  auto duration = [&](const char* key, int64_t& out) {
    if (auto v = hc.find(key); v != hc.end() && v->is_number_integer() && v->get<int64_t>() > 0)
      out = v->get<int64_t>();
  };
  duration("Interval", c.interval_ns);
  duration("Timeout", c.timeout_ns);
  duration("StartPeriod", c.start_period_ns);
  duration("StartInterval", c.start_interval_ns);
  if (auto v = hc.find("Retries"); v != hc.end() && v->is_number_integer() && v->get<int>() > 0)
    c.retries = v->get<int>();
  return c;
}

json to_json(const ContainerHealth& h) {
  json log = json::array();
  for (auto& r : h.log)
    log.push_back(
        {{"Start", r.start}, {"End", r.end}, {"ExitCode", r.exit_code}, {"Output", r.output}});
  return {{"Status", h.status}, {"FailingStreak", h.failing_streak}, {"Log", log}};
}

ContainerHealth health_from_json(const json& j) {
  ContainerHealth h;
  h.status = j.value("Status", std::string(kHealthStarting));
  h.failing_streak = j.value("FailingStreak", 0);
  if (auto l = j.find("Log"); l != j.end() && l->is_array())
    for (auto& r : *l)
      h.log.push_back({r.value("Start", ""), r.value("End", ""), r.value("ExitCode", 0),
                       r.value("Output", "")});
  return h;
}

namespace {

// `v` units of 10^-digits as Go prints a fraction: trailing zeros dropped.
std::string with_fraction(int64_t whole, int64_t frac, int digits) {
  std::string s = std::to_string(whole);
  if (frac == 0) return s;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%0*lld", digits, static_cast<long long>(frac));
  std::string f = buf;
  while (!f.empty() && f.back() == '0') f.pop_back();
  return s + "." + f;
}

}  // namespace

std::string go_duration_string(int64_t ns) {
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  uint64_t u = ns < 0 ? -static_cast<uint64_t>(ns) : static_cast<uint64_t>(ns);
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1'000'000) return sign + with_fraction(u / 1000, u % 1000, 3) + "µs";
  if (u < 1'000'000'000) return sign + with_fraction(u / 1'000'000, u % 1'000'000, 6) + "ms";
  uint64_t secs = u / 1'000'000'000, frac = u % 1'000'000'000;
  uint64_t h = secs / 3600, m = secs / 60 % 60, s = secs % 60;
  std::string out = with_fraction(static_cast<int64_t>(s), static_cast<int64_t>(frac), 9) + "s";
  if (h > 0 || m > 0) out = std::to_string(m) + "m" + out;
  if (h > 0) out = std::to_string(h) + "h" + out;
  return sign + out;
}

}  // namespace berth::engine
