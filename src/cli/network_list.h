// `berth network ls`: the rows of docker's network formatter and their rendering.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace berth::cli {

struct NetworkListOptions {
  std::string format;  // --format, or the config file's networksFormat
  bool quiet = false, no_trunc = false;
};

// The output for a GET /networks answer: sorted by name as docker sorts them.
std::string render_networks(const nlohmann::json& networks, const NetworkListOptions& o);
// Go's time.Time.String() of an RFC 3339 timestamp as the API sends it, in its own offset.
std::string go_time_of_rfc3339(const std::string& ts);

}  // namespace berth::cli
