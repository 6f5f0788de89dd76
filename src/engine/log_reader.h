// Reading a container's json-file log for `logs`: Docker's line format, --tail, --since,
// --until, and --follow as the shim appends (inotify, no polling of the file).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace berth::engine {

struct LogLine {
  std::string stream;  // "stdout" or "stderr"
  std::string text;    // with its '\n' when the line was complete
  int64_t time_nano = 0;
  std::string time;  // RFC 3339 as recorded
};

struct LogQuery {
  bool stdout = true, stderr = true;
  int64_t since_nano = 0, until_nano = 0;  // 0: no bound
  long tail = -1;                          // -1: all
  bool follow = false;
};

// Calls `emit` for each line (stops when it returns false). With follow, waits for more
// until `keep_following` returns false (asked at least once a second and at each change).
void read_json_log(const std::string& path, const LogQuery& q,
                   const std::function<bool(const LogLine&)>& emit,
                   const std::function<bool()>& keep_following);

}  // namespace berth::engine
