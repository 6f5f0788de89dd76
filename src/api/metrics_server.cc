#include "api/metrics_server.h"

#include <poll.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/error.h"
#include "base/log.h"

namespace berth::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

void RequestMetrics::observe(const std::string& method, const std::string& route, int status,
                             double seconds) {
  // Unmatched paths are one series, not one per path a client made up.
  std::string r = route.empty() ? "unmatched" : route;
  std::lock_guard lk(mu_);
  counts_[{method, r, status}]++;
  latency_[{method, r}].observe(seconds);
  if (method == "POST" && r == "/build") builds_++;
}

void RequestMetrics::write(engine::MetricsText& out) const {
  std::lock_guard lk(mu_);
  out.family("berth_api_requests_total", "counter",
             "Engine API requests answered, by method, route and status code");
  for (auto& [k, n] : counts_)
    out.sample("berth_api_requests_total",
               {{"method", std::get<0>(k)},
                {"route", std::get<1>(k)},
                {"code", std::to_string(std::get<2>(k))}},
               static_cast<double>(n));
  out.family("berth_api_request_duration_seconds", "histogram",
             "Time to answer an Engine API request (a stream: until its handler returned), "
             "by method and route");
  for (auto& [k, h] : latency_)
    h.write(out, "berth_api_request_duration_seconds", {{"method", k.first}, {"route", k.second}});
  // dockerd's name for the same count.
  out.family("builder_builds_triggered_total", "counter", "Number of triggered image builds");
  out.sample("builder_builds_triggered_total", {}, static_cast<double>(builds_));
}

std::pair<std::string, unsigned short> parse_metrics_addr(const std::string& addr) {
  auto colon = addr.rfind(':');
  std::string host = colon == std::string::npos ? "" : addr.substr(0, colon);
  std::string port = colon == std::string::npos ? addr : addr.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty() || host == "localhost") host = "127.0.0.1";
  unsigned long p = 0;
  size_t used = 0;
  try {
    p = std::stoul(port, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (port.empty() || used != port.size() || p > 65535)
    throw InvalidArgument("metrics-addr " + addr + ": expected HOST:PORT");
  boost::system::error_code ec;
  asio::ip::make_address(host, ec);
  if (ec) throw InvalidArgument("metrics-addr " + addr + ": " + host + " is not an IP address");
  return {host, static_cast<unsigned short>(p)};
}

struct MetricsEndpoint::Listener {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
};

namespace {

// Reads one request head, each read within a time limit; false when none came whole.
bool read_request(tcp::socket& sock, http::request_parser<http::empty_body>& parser) {
  constexpr int kReadTimeoutMs = 10000;
  char buf[4096];
  parser.header_limit(sizeof buf * 4);
  while (!parser.is_header_done()) {
    pollfd p{sock.native_handle(), POLLIN, 0};
    if (::poll(&p, 1, kReadTimeoutMs) <= 0) return false;
    boost::system::error_code ec;
    size_t n = sock.read_some(asio::buffer(buf), ec);
    if (ec || n == 0) return false;
    size_t at = 0;
    while (at < n && !parser.is_header_done()) {
      size_t used = parser.put(asio::buffer(buf + at, n - at), ec);
      if (ec == http::error::need_more) break;
      if (ec) return false;
      at += used;
    }
  }
  return true;
}

void answer(tcp::socket& sock, http::status status, const std::string& type, std::string body) {
  http::response<http::string_body> res{status, 11};
  res.set(http::field::content_type, type);
  res.keep_alive(false);
  res.body() = std::move(body);
  res.prepare_payload();
  boost::system::error_code ec;
  http::write(sock, res, ec);
}

}  // namespace

MetricsEndpoint::MetricsEndpoint(const std::string& addr, Router& router, engine::Engine& engine)
    : engine_(engine.containers(), engine.events(), engine::StatsHost::detect()),
      listener_(std::make_unique<Listener>()) {
  auto [host, port] = parse_metrics_addr(addr);
  tcp::endpoint where(asio::ip::make_address(host), port);
  boost::system::error_code ec;
  listener_->acceptor.open(where.protocol(), ec);
  if (!ec) listener_->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) listener_->acceptor.bind(where, ec);
  if (!ec) listener_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw Error("metrics-addr: listen on " + addr + ": " + ec.message());
  router.set_observer(
      [this](const std::string& method, const std::string& route, int status, double seconds) {
        requests_.observe(method, route, status, seconds);
      });
  // One scrape at a time is plenty: Prometheus asks each target once per interval.
  thread_ = std::thread([this] {
    for (;;) {
      tcp::socket sock(listener_->ioc);
      boost::system::error_code aec;
      listener_->acceptor.accept(sock, aec);
      if (!listener_->acceptor.is_open()) return;
      if (aec) {
        if (aec == asio::error::invalid_argument || aec == asio::error::bad_descriptor) return;
        continue;
      }
      try {
        http::request_parser<http::empty_body> parser;
        if (!read_request(sock, parser)) continue;
        auto& req = parser.get();
        std::string target(req.target());
        std::string path = target.substr(0, target.find('?'));
        if (path != "/metrics")
          answer(sock, http::status::not_found, "text/plain; charset=utf-8",
                 "404 page not found\n");
        else if (req.method() != http::verb::get && req.method() != http::verb::head)
          answer(sock, http::status::method_not_allowed, "text/plain; charset=utf-8",
                 "method not allowed\n");
        else
          answer(sock, http::status::ok, "text/plain; version=0.0.4; charset=utf-8", render());
      } catch (const std::exception& e) {
        log::warn(std::string("metrics scrape: ") + e.what());
      }
    }
  });
  log::info("metrics listening on " + address());
}

MetricsEndpoint::~MetricsEndpoint() {
  ::shutdown(listener_->acceptor.native_handle(), SHUT_RDWR);
  boost::system::error_code ec;
  listener_->acceptor.close(ec);
  thread_.join();
}

std::string MetricsEndpoint::render() const {
  engine::MetricsText out;
  requests_.write(out);
  engine_.write(out);
  return out.text();
}

std::string MetricsEndpoint::address() const {
  boost::system::error_code ec;
  auto ep = listener_->acceptor.local_endpoint(ec);
  if (ec) return "";
  auto host = ep.address().to_string();
  return (ep.address().is_v6() ? "[" + host + "]" : host) + ":" + std::to_string(ep.port());
}

}  // namespace berth::api
