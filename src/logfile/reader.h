// Reading a container log for `logs`: the rotated files (plain or gzip) oldest first, then
// the live one; --tail, --since, --until, and --follow as the shim appends and rotates
// (inotify, no polling of the file).
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "logfile/codec.h"

namespace berth::logfile {

struct Query {
  bool stdout = true, stderr = true;
  int64_t since_nano = 0, until_nano = 0;  // 0: no bound
  long tail = -1;                          // -1: all
  bool follow = false;
};

// Calls `emit` for each entry (stops when it returns false). With follow, waits for more
// until `keep_following` returns false (asked at least once a second and at each change).
void read_log(const std::string& path, const Codec& codec, const Query& q,
              const std::function<bool(const Entry&)>& emit,
              const std::function<bool()>& keep_following);

}  // namespace berth::logfile
