// Prometheus metrics of the registry's requests, in the text exposition format, served on
// http.debug.addr when http.debug.prometheus.enabled says so (as registry:2 does).
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace berth::registry {

class Metrics {
 public:
  void record(const std::string& method, int status, uint64_t bytes_sent, double seconds);
  std::string render() const;

 private:
  struct Counts {
    uint64_t requests = 0;
    uint64_t bytes = 0;
    double seconds = 0;
  };
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, Counts> by_request_;
};

}  // namespace berth::registry
