#include "base/log.h"

#include <fcntl.h>
#include <unistd.h>

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
  } else {
    line = now_rfc3339() + " " + level_name(level) + ": " + msg;
  }
  line.push_back('\n');
  // A single write keeps lines whole when several processes share the log.
  [[maybe_unused]] ssize_t n = ::write(g_fd, line.data(), line.size());
}

}  // namespace berth::log
