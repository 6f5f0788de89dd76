#include "base/error.h"
#include "client/client.h"

namespace berth::client {

using nlohmann::json;

void JsonSplitter::feed(std::string_view data) {
  for (char c : data) {
    if (depth_ == 0 && !in_string_ && c != '{' && c != '[') continue;  // whitespace between values
    pending_ += c;
    if (in_string_) {
      if (escape_) {
        escape_ = false;
      } else if (c == '\\') {
        escape_ = true;
      } else if (c == '"') {
        in_string_ = false;
      }
      continue;
    }
    if (c == '"') {
      in_string_ = true;
    } else if (c == '{' || c == '[') {
      ++depth_;
    } else if (c == '}' || c == ']') {
      if (--depth_ == 0) {
        auto j = json::parse(pending_, nullptr, false);
        pending_.clear();
        if (j.is_discarded()) throw Error("invalid JSON in the daemon's response stream");
        sink_(j);
      }
    }
  }
}

}  // namespace berth::client
