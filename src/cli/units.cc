#include "cli/units.h"

#include <time.h>

#include <array>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "base/error.h"

namespace berth::cli {
namespace {

std::string size_with_units(double size, double base, const char* const* units, int n,
                            int precision) {
  int i = 0;
  while (size >= base && i < n - 1) {
    size /= base;
    ++i;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*g%s", precision, size, units[i]);
  return buf;
}

std::string strftime_local(int64_t unix_seconds, const char* fmt) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  char buf[128];
  std::strftime(buf, sizeof buf, fmt, &tm);
  return buf;
}

// Go writes a zero UTC offset as "Z" in RFC 3339 and "+01:00" otherwise.
std::string rfc3339_zone(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  localtime_r(&t, &tm);
  long off = tm.tm_gmtoff;
  if (off == 0) return "Z";
  char sign = off < 0 ? '-' : '+';
  off = std::labs(off);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%c%02ld:%02ld", sign, off / 3600, (off / 60) % 60);
  return buf;
}

// A Go duration such as "10m", "1h30m", "1.5s"; nullopt-like -1 when `s` is not one.
int64_t parse_go_duration(const std::string& s) {
  static const std::array<std::pair<const char*, double>, 7> kUnits = {
      {{"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}, {"µs", 1e3}}};
  if (s.empty()) return -1;
  double total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
    if (i == start) return -1;
    double num = std::atof(s.substr(start, i - start).c_str());
    size_t ustart = i;
    while (i < s.size() && !std::isdigit(static_cast<unsigned char>(s[i])) && s[i] != '.') ++i;
    std::string unit = s.substr(ustart, i - ustart);
    bool found = false;
    for (auto& [name, mult] : kUnits) {
      if (unit == name) {
        total += num * mult;
        found = true;
      }
    }
    if (!found) return -1;
  }
  return static_cast<int64_t>(total);
}

}  // namespace

std::string human_size(double bytes, int precision) {
  static const char* const kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  return size_with_units(bytes, 1000.0, kUnits, 9, precision);
}

std::string bytes_size(double bytes) {
  static const char* const kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB", "ZiB", "YiB"};
  return size_with_units(bytes, 1024.0, kUnits, 9, 4);
}

std::string human_duration(int64_t ns) {
  int64_t seconds = ns / 1000000000;
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return std::to_string(seconds) + " seconds";
  int64_t minutes = seconds / 60;
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return std::to_string(minutes) + " minutes";
  auto hours = static_cast<int64_t>(static_cast<double>(ns) / 3600e9 + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return std::to_string(hours) + " hours";
  if (hours < 24 * 7 * 2) return std::to_string(hours / 24) + " days";
  if (hours < 24 * 30 * 2) return std::to_string(hours / 24 / 7) + " weeks";
  if (hours < 24 * 365 * 2) return std::to_string(hours / 24 / 30) + " months";
  return std::to_string(ns / 3600000000000 / 24 / 365) + " years";
}

std::string time_ago(int64_t unix_seconds) {
  if (unix_seconds <= 0) return "N/A";
  return human_duration(now_unix_nanos() - unix_seconds * 1000000000) + " ago";
}

std::string go_time_string(int64_t unix_seconds) {
  return strftime_local(unix_seconds, "%Y-%m-%d %H:%M:%S %z %Z");
}

std::string rfc3339(int64_t unix_seconds) {
  return strftime_local(unix_seconds, "%Y-%m-%dT%H:%M:%S") + rfc3339_zone(unix_seconds);
}

std::string rfc3339_nano_fixed(int64_t unix_nanos) {
  int64_t secs = unix_nanos / 1000000000;
  char frac[16];
  std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(unix_nanos % 1000000000));
  return strftime_local(secs, "%Y-%m-%dT%H:%M:%S") + frac + rfc3339_zone(secs);
}

int64_t now_unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string api_timestamp(const std::string& value, int64_t now_nanos) {
  if (value.empty()) return value;
  bool numeric = value.find_first_not_of("0123456789.") == std::string::npos;
  if (numeric) return value;
  if (int64_t d = parse_go_duration(value); d >= 0) {
    int64_t t = now_nanos - d;
    char buf[48];
    std::snprintf(buf, sizeof buf, "%lld.%09lld", static_cast<long long>(t / 1000000000),
                  static_cast<long long>(t % 1000000000));
    return buf;
  }
  // Dates and times as docker accepts them; without a zone they are local time.
  static const char* const kLayouts[] = {"%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"};
  for (const char* layout : kLayouts) {
    struct tm tm {};
    const char* rest = strptime(value.c_str(), layout, &tm);
    if (rest == nullptr) continue;
    std::string tail = rest;
    if (!tail.empty() && tail[0] == '.') {
      size_t n = tail.find_first_not_of("0123456789", 1);
      tail = n == std::string::npos ? "" : tail.substr(n);
    }
    time_t t;
    if (tail.empty()) {
      tm.tm_isdst = -1;
      t = mktime(&tm);
    } else if (tail == "Z") {
      t = timegm(&tm);
    } else if ((tail[0] == '+' || tail[0] == '-') && tail.size() == 6 && tail[3] == ':') {
      int off =
          std::atoi(tail.substr(1, 2).c_str()) * 3600 + std::atoi(tail.substr(4).c_str()) * 60;
      t = timegm(&tm) - (tail[0] == '+' ? off : -off);
    } else {
      continue;
    }
    return std::to_string(static_cast<long long>(t));
  }
  throw Error("failed to parse value as time or duration: \"" + value + "\"");
}

std::string ellipsis(const std::string& s, size_t width) {
  std::vector<size_t> starts;  // where each UTF-8 character begins
  for (size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  if (starts.size() <= width) return s;
  return s.substr(0, starts[width - 1]) + "…";
}

std::string truncate_id(const std::string& id) {
  std::string s = id;
  if (size_t colon = s.find(':'); colon != std::string::npos) s = s.substr(colon + 1);
  return s.size() > 12 ? s.substr(0, 12) : s;
}

}  // namespace berth::cli
