// Streams of JSON values as the daemon sends them (load, import, events): values split as
// they arrive, and docker's jsonmessage display of status, progress and errors.
#pragma once

#include <cstdio>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace berth::cli {

// Cuts a byte stream into complete top-level JSON values, whatever the chunk boundaries.
class JsonSplitter {
 public:
  using Sink = std::function<void(const nlohmann::json&)>;
  explicit JsonSplitter(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view data);

 private:
  Sink sink_;
  std::string pending_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

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
