// docker's jsonmessage display of the JSON messages that load, import and pull stream back:
// status lines, progress bars and errors.
#pragma once

#include <cstdint>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace berth::cli {

// Prints docker's JSON messages: {"stream"}, {"status","id","progress"}; progress bars only on
// a terminal. An {"errorDetail"}/{"error"} message throws berth::Error with its text.
class JsonMessagePrinter {
 public:
  JsonMessagePrinter(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}
  void print(const nlohmann::json& msg);
  // Ends a progress line left open on a terminal.
  void finish();

 private:
  std::FILE* out_;
  bool terminal_;
  bool open_line_ = false;
};

// docker's progress bar: "[=====>      ]  1.2MB/3.4MB".
std::string progress_bar(int64_t current, int64_t total);

}  // namespace berth::cli
