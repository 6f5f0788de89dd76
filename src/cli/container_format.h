// The rows of docker's container formatter (ps) and the status text its daemon computes.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace berth::cli {

// docker's State.String() for an inspect "State" object: "Up 2 seconds", "Up 3 minutes
// (Paused)", "Exited (0) 3 seconds ago", "Created", "Restarting (1) 2 seconds ago", ...
std::string container_status(const nlohmann::json& state, int64_t now_unix_nanos);
// Go's strconv.Quote for the COMMAND column.
std::string go_quote(const std::string& s);
// "0.0.0.0:8080->80/tcp, 443/tcp": docker's DisplayablePorts, consecutive ports as ranges.
std::string display_ports(const nlohmann::json& ports);
// One row for an /containers/json entry, with every field docker's --format knows.
nlohmann::json ps_row(const nlohmann::json& c, bool trunc);
nlohmann::json ps_headers();

}  // namespace berth::cli
