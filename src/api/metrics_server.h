// berthd's Prometheus endpoint (dockerd's metrics-addr): GET /metrics on a TCP listener of its
// own, apart from the API socket and without its authority (it only reads). It serves the API's
// request counts and latencies by route, builds triggered, and the engine's and every
// container's metrics (engine/metrics.h), in Prometheus's text format.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <tuple>
#include <utility>

#include "api/router.h"
#include "engine/engine.h"
#include "engine/metrics.h"

namespace berth::api {

// The API's requests, as the router reports them.
class RequestMetrics {
 public:
  void observe(const std::string& method, const std::string& route, int status, double seconds);
  void write(engine::MetricsText& out) const;

 private:
  mutable std::mutex mu_;
  std::map<std::tuple<std::string, std::string, int>, uint64_t> counts_;  // method, route, code
  std::map<std::pair<std::string, std::string>, engine::Histogram> latency_;
  uint64_t builds_ = 0;
};

// "IP:PORT" (an IPv6 address in brackets) or "localhost:PORT"; a bare ":PORT" or "PORT" is
// loopback's.
std::pair<std::string, unsigned short> parse_metrics_addr(const std::string& addr);

class MetricsEndpoint {
 public:
  // Listens on `addr` now (a taken port is an error at start, as dockerd's) and observes
  // `router`'s requests from now on.
  MetricsEndpoint(const std::string& addr, Router& router, engine::Engine& engine);
  ~MetricsEndpoint();
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // The text a scrape gets now.
  std::string render() const;
  // Where it listens, "HOST:PORT" (the port chosen by the kernel when 0 was asked).
  std::string address() const;

 private:
  struct Listener;
  RequestMetrics requests_;
  engine::EngineMetrics engine_;
  std::unique_ptr<Listener> listener_;
  std::thread thread_;
};

}  // namespace berth::api
