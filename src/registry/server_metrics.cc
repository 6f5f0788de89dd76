#include "registry/server_metrics.h"

#include <cstdio>

namespace berth::registry {

void Metrics::record(const std::string& method, int status, uint64_t bytes_sent, double seconds) {
  std::lock_guard lock(mu_);
  Counts& c = by_request_[{method, status}];
  ++c.requests;
  c.bytes += bytes_sent;
  c.seconds += seconds;
}

std::string Metrics::render() const {
  std::lock_guard lock(mu_);
  std::string requests =
      "# HELP registry_http_requests_total Requests answered, by method and status code.\n"
      "# TYPE registry_http_requests_total counter\n";
  std::string bytes =
      "# HELP registry_http_response_bytes_total Body bytes sent, by method and status code.\n"
      "# TYPE registry_http_response_bytes_total counter\n";
  std::string seconds =
      "# HELP registry_http_request_duration_seconds_total Time spent answering, by method "
      "and status code.\n"
      "# TYPE registry_http_request_duration_seconds_total counter\n";
  for (auto& [key, c] : by_request_) {
    std::string labels =
        "{method=\"" + key.first + "\",code=\"" + std::to_string(key.second) + "\"} ";
    requests += "registry_http_requests_total" + labels + std::to_string(c.requests) + "\n";
    bytes += "registry_http_response_bytes_total" + labels + std::to_string(c.bytes) + "\n";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6f", c.seconds);
    seconds += "registry_http_request_duration_seconds_total" + labels + buf + "\n";
  }
  return requests + bytes + seconds;
}

}  // namespace berth::registry
