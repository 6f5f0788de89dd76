#include "base/time.h"

#include <time.h>

#include <cctype>
#include <cstdio>
#include <string>
#include <string_view>
#include <utility>

namespace berth {

std::string format_rfc3339(int64_t unix_nano) {
  time_t sec = static_cast<time_t>(unix_nano / 1000000000);
  long nsec = static_cast<long>(unix_nano % 1000000000);
  tm t;
  gmtime_r(&sec, &t);
  char buf[64];
  size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &t);
  snprintf(buf + n, sizeof buf - n, ".%09ldZ", nsec);
  return buf;
}

std::string now_rfc3339() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return format_rfc3339(static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec);
}

std::optional<int64_t> parse_rfc3339(const std::string& s) {
  tm t{};
  int consumed = 0;
  if (sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &t.tm_year, &t.tm_mon, &t.tm_mday, &t.tm_hour,
             &t.tm_min, &t.tm_sec, &consumed) != 6)
    return std::nullopt;
  t.tm_year -= 1900;
  t.tm_mon -= 1;
  size_t i = static_cast<size_t>(consumed);
  int64_t nanos = 0;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100000000;
    for (i++; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  int64_t offset = 0;
  if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
    int hh = 0, mm = 0;
    if (sscanf(s.c_str() + i + 1, "%2d:%2d", &hh, &mm) != 2) return std::nullopt;
    offset = (s[i] == '+' ? 1 : -1) * (hh * 3600 + mm * 60);
    i += 6;
  } else if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    i++;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  tm parsed = t;
  time_t when = timegm(&t);
  // timegm rolls "month 13" or "February 30" over into a real date; those are not valid.
  if (t.tm_year != parsed.tm_year || t.tm_mon != parsed.tm_mon || t.tm_mday != parsed.tm_mday ||
      t.tm_hour != parsed.tm_hour || t.tm_min != parsed.tm_min || parsed.tm_sec > 60)
    return std::nullopt;
  int64_t sec = static_cast<int64_t>(when) - offset;
  // Nanoseconds since 1970 in an int64 reach from 1677 to 2262; a time outside is not one
  // (multiplying would overflow).
  int64_t ns = 0;
  if (__builtin_mul_overflow(sec, int64_t{1000000000}, &ns) ||
      __builtin_add_overflow(ns, nanos, &ns))
    return std::nullopt;
  return ns;
}

std::optional<int64_t> parse_go_duration(const std::string& s) {
  static const std::pair<const char*, double> kUnits[] = {
      {"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
      {"s", 1e9}, {"m", 60e9}, {"h", 3600e9}};
  if (s.empty()) return std::nullopt;
  size_t i = 0;
  bool neg = s[0] == '-';
  if (s[0] == '-' || s[0] == '+') i++;
  if (s.substr(i) == "0") return 0;
  double total = 0;
  if (i == s.size()) return std::nullopt;
  while (i < s.size()) {
    size_t start = i;
    while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
    if (i == start) return std::nullopt;
    double value = std::stod(s.substr(start, i - start));
    bool found = false;
    // "ms" is listed before "m", so that it is not read as minutes followed by "s".
    for (auto& [name, scale] : kUnits) {
      std::string_view u(name);
      if (s.compare(i, u.size(), u) == 0) {
        total += value * scale;
        i += u.size();
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;
  }
  return static_cast<int64_t>(neg ? -total : total);
}

std::optional<int64_t> parse_api_time(const std::string& s) {
  if (s.empty()) return std::nullopt;
  if (!std::isdigit(static_cast<unsigned char>(s.back())) && s.find('T') == std::string::npos) {
    auto d = parse_go_duration(s);
    if (!d) return std::nullopt;
    timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec - *d;
  }
  if (s.find('T') != std::string::npos) return parse_rfc3339(s);
  size_t i = 0;
  int64_t sec = 0, nanos = 0;
  bool neg = s[0] == '-';
  if (neg) i++;
  size_t digits = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++, digits++)
    sec = sec * 10 + (s[i] - '0');
  if (digits == 0) return std::nullopt;
  if (i < s.size() && s[i] == '.') {
    int64_t scale = 100000000;
    for (i++; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])); i++) {
      nanos += (s[i] - '0') * scale;
      scale /= 10;
    }
  }
  if (i != s.size()) return std::nullopt;
  int64_t v = sec * 1000000000 + nanos;
  return neg ? -v : v;
}

}  // namespace berth
