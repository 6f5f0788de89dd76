// HTTP/1.1 over a unix stream socket, streaming both ways: image tarballs are hundreds of
// megabytes, so request bodies are read from a file descriptor and response bodies are handed
// to a callback piece by piece; neither is ever held whole in memory.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"

namespace berth::cli {

// The daemon's socket is missing or refuses connections.
class ConnectError : public Error {
 public:
  using Error::Error;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target;  // path and query, already escaped
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;  // a small body held in memory, used when body_fd < 0
  // A streamed body: sent with Content-Length when body_size >= 0, else chunked.
  int body_fd = -1;
  int64_t body_size = -1;
  std::function<void(uint64_t sent)> on_sent;  // progress of a streamed body
};

struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names in lower case
  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? "" : it->second;
  }
};

using BodySink = std::function<void(std::string_view)>;
using HeadSink = std::function<void(const HttpResponse&)>;

// One request per connection: the CLI makes a handful of requests per run, and a fresh
// connection keeps a half-read stream from ever leaking into the next response.
// `on_head` sees the status and headers before any of the body reaches `on_body`.
HttpResponse http_send(const std::string& socket_path, const HttpRequest& req,
                       const HeadSink& on_head, const BodySink& on_body);

}  // namespace berth::cli
