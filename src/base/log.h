// The log: plain text, runc's text lines or runc's JSON lines ({"level","msg","time"}), to a file
// or stderr.
#pragma once

#include <string>

namespace berth::log {

enum class Level { kDebug, kInfo, kWarn, kError };
// kText: "<time> <level>: <msg>" (berthd, the registry). kLogrus: runc's text lines,
// logrus's key=value format (time="..." level=debug msg="..."), which callers of a runtime
// parse.
enum class Format { kText, kJson, kLogrus };

// Logs go to stderr until configure() names a file.
void configure(const std::string& path, Format format, Level min_level);
void write(Level level, const std::string& msg);

inline void debug(const std::string& m) {
  write(Level::kDebug, m);
}
inline void info(const std::string& m) {
  write(Level::kInfo, m);
}
inline void warn(const std::string& m) {
  write(Level::kWarn, m);
}
inline void error(const std::string& m) {
  write(Level::kError, m);
}

}  // namespace berth::log
