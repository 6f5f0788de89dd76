// Docker's JSON message streams (pull, push, load, import, build): one JSON object per line,
// each line ended by "\r\n" as dockerd's stream formatter ends it; clients that split on
// either ending, or read the last line, see exactly one object per line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace berth::api {

inline std::string json_message(const nlohmann::json& message) {
  return message.dump() + "\r\n";
}

}  // namespace berth::api
