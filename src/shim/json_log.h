// Docker's json-file log driver: one JSON object per line of output, rotated by size.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/fd.h"
#include "shim/stdio.h"

namespace berth::shim {

struct JsonLogConfig {
  std::string path;
  int64_t max_size = -1;  // bytes; -1: never rotate
  int max_file = 1;
};

// From --log-opt key=value pairs (max-size, max-file), as dockerd checks them.
JsonLogConfig parse_json_log_config(const std::string& path, const std::vector<std::string>& opts);
// Docker's RAMInBytes: "10m", "1.5g", "512k", "100", with an optional "b" or "ib".
int64_t parse_size(const std::string& s);

class JsonLog {
 public:
  explicit JsonLog(JsonLogConfig config);
  // Logs complete lines at once; a partial line waits for its end, or until it is 16 KiB.
  void write(Stream stream, std::string_view data);
  // Logs what is left of partial lines (at exit).
  void flush();

 private:
  void emit(Stream stream, std::string_view text);
  void rotate();

  JsonLogConfig config_;
  UniqueFd fd_;
  int64_t size_ = 0;
  std::string partial_[2];  // stdout, stderr
};

}  // namespace berth::shim
