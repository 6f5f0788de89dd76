#include "base/time.h"

#include <time.h>

#include <cctype>
#include <cstdio>

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
  int64_t sec = static_cast<int64_t>(timegm(&t)) - offset;
  return sec * 1000000000 + nanos;
}

std::optional<int64_t> parse_api_time(const std::string& s) {
  if (s.empty()) return std::nullopt;
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
