#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/time.h"

namespace berth::log {
namespace {

int g_fd = STDERR_FILENO;
Format g_format = Format::kText;
Level g_min = Level::kWarn;

const char* level_name(Level l) {
  switch (l) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warning";
    case Level::kError:
      return "error";
  }
  return "info";
}

// logrus quotes a value unless it is made only of these, and quotes as Go's %q does.
std::string logrus_value(const std::string& v) {
  bool plain = !v.empty();
  for (unsigned char c : v)
    plain = plain && (std::isalnum(c) || std::strchr("-._/@^+", c) != nullptr);
  if (plain) return v;
  std::string out = "\"";
  for (unsigned char c : v) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c < 0x20 || c == 0x7f) {
      static const char hex[] = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

// RFC 3339 in whole seconds, as logrus prints it: the fraction cut.
std::string seconds_rfc3339() {
  std::string t = now_rfc3339();
  auto dot = t.find('.');
  auto zone = t.find_first_of("Z+-", dot == std::string::npos ? 0 : dot);
  if (dot != std::string::npos && zone != std::string::npos) t.erase(dot, zone - dot);
  return t;
}

}  // namespace

void configure(const std::string& path, Format format, Level min_level) {
  g_format = format;
  g_min = min_level;
  if (path.empty()) return;
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw_errno("open log file " + path);
  g_fd = fd;
}

void write(Level level, const std::string& msg) {
  if (level < g_min) return;
  std::string line;
  if (g_format == Format::kJson) {
    nlohmann::json j = {{"level", level_name(level)}, {"msg", msg}, {"time", now_rfc3339()}};
    line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (g_format == Format::kLogrus) {
    line = "time=" + logrus_value(seconds_rfc3339()) + " level=" + level_name(level) +
           " msg=" + logrus_value(msg);
  } else {
    line = now_rfc3339() + " " + level_name(level) + ": " + msg;
  }
  line.push_back('\n');
  // A single write keeps lines whole when several processes share the log.
  [[maybe_unused]] ssize_t n = ::write(g_fd, line.data(), line.size());
}

}  // namespace berth::log
