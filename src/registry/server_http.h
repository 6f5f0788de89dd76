// The registry's HTTP/1.1 server: one thread per connection over blocking sockets (plain
// TCP, or TLS when a certificate is configured), bodies streamed in both directions so a
// layer of hundreds of megabytes never sits in memory, and an access log line per request.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/fd.h"

namespace berth::registry {

// Pulls the request body in pieces; returns 0 at its end.
using BodyReader = std::function<size_t(char* buf, size_t len)>;

struct HttpRequest {
  std::string method;
  std::string path;  // percent-decoded, without the query
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> headers;  // lower-case names
  BodyReader read_body;
  std::string user;  // set once authenticated, for the access log

  // The last value of a query parameter, or "" (has_query tells absent from empty).
  std::string q(const std::string& name) const;
  bool has_query(const std::string& name) const { return query.count(name) > 0; }
  std::string header(const std::string& lower_name) const;
};

struct HttpResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // When open, the body is `file_length` bytes of this file from `file_offset` instead.
  UniqueFd file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;

  void set(std::string name, std::string value) {
    headers.emplace_back(std::move(name), std::move(value));
  }
};

using HttpHandler = std::function<HttpResponse(HttpRequest&)>;
// Told of every answered request: its method, status, body bytes sent and seconds taken.
using RequestObserver =
    std::function<void(const std::string& method, int status, uint64_t bytes, double seconds)>;

struct TlsFiles {
  std::string certificate;  // PEM chain
  std::string key;          // PEM private key
};

class HttpServer {
 public:
  // Listens on `addr` ("host:port", ":port"; port 0 picks a free one). Throws when it cannot.
  HttpServer(const std::string& addr, HttpHandler handler, const TlsFiles& tls,
             std::vector<std::pair<std::string, std::string>> extra_headers, bool access_log);
  ~HttpServer();
  uint16_t port() const;
  // Set before run().
  void observe(RequestObserver observer);
  // Accepts until stop().
  void run();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace berth::registry
