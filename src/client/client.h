// berth's Engine API client, for everything that talks to berthd (or any daemon that speaks
// Docker's Engine API) from outside: the berth CLI, compose, the benches and the tests. It
// finds the daemon as docker does, negotiates the API version, makes JSON and streamed calls,
// hijacks connections for attach and exec, and splits the streams the daemon sends back.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/error.h"
#include "base/fd.h"

namespace berth::client {

// Where the daemon is: -H beats BERTH_HOST beats DOCKER_HOST beats the default socket.

inline constexpr const char* kDefaultHost = "unix:///run/berth/berth.sock";

using GetEnv = std::function<std::optional<std::string>(const std::string&)>;
// The variable's value; nullopt when it is unset or empty, as docker treats both alike.
std::optional<std::string> process_env(const std::string& name);

// The host URL to use: `flag` if given, else the environment, else the default.
std::string resolve_host(const std::string& flag, const GetEnv& env = process_env);
// The socket path of a unix:// host URL; other schemes are refused with a clear error.
std::string socket_path_of(const std::string& host);

// HTTP/1.1 over a unix stream socket, streaming both ways: image tarballs are hundreds of
// megabytes, so request bodies are read from a file descriptor and response bodies are handed
// to a callback piece by piece; neither is ever held whole in memory.

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

// One request per connection: a client makes a handful of requests per run, and a fresh
// connection keeps a half-read stream from ever leaking into the next response.
// `on_head` sees the status and headers before any of the body reaches `on_body`.
HttpResponse http_send(const std::string& socket_path, const HttpRequest& req,
                       const HeadSink& on_head, const BodySink& on_body);

// The Engine API: version negotiation, JSON calls, streamed calls, and daemon errors turned
// into the one line docker prints.

inline constexpr const char* kClientApiVersion = "1.44";

// A non-2xx answer; what() is "Error response from daemon: <message>".
class ApiError : public Error {
 public:
  ApiError(int status, const std::string& message)
      : Error("Error response from daemon: " + message), status_(status), message_(message) {}
  int status() const { return status_; }
  const std::string& message() const { return message_; }

 private:
  int status_;
  std::string message_;
};

class Query {
 public:
  Query& add(const std::string& key, const std::string& value) {
    params_.emplace_back(key, value);
    return *this;
  }
  Query& flag(const std::string& key, bool on) { return on ? add(key, "1") : *this; }
  std::string encode() const;  // "?a=b&c=d", or "" when empty

 private:
  std::vector<std::pair<std::string, std::string>> params_;
};

std::string url_escape(const std::string& s);
// Escapes one path parameter such as an image name, keeping the '/', ':' and '@' of references.
std::string path_escape(const std::string& s);
// Parses repeated --filter key=value flags into the API's filters JSON
// ({"key":{"value":true}}); "" when there are none.
std::string filters_json(const std::vector<std::string>& filters);
// min(client, server) of two "1.44"-style versions.
std::string negotiate_version(const std::string& client, const std::string& server);

class ApiClient {
 public:
  explicit ApiClient(std::string host);

  const std::string& host() const { return host_; }
  // The negotiated API version, pinging the daemon on first use.
  const std::string& version();
  // The server's answer to /_ping: its API version (empty if it sent none).
  const std::string& server_api_version();

  // A call whose answer is small JSON (or empty). Non-2xx throws ApiError.
  nlohmann::json call(const std::string& method, const std::string& path, const Query& q = {},
                      const nlohmann::json* body = nullptr);
  // A call whose answer is streamed to `sink`; `req` carries an optional streamed body.
  // Non-2xx throws ApiError (the error body is read whole: it is small). `on_head` sees a
  // successful answer's head before its body (wait uses it to know it is registered).
  HttpResponse stream(HttpRequest req, const std::string& path, const Query& q,
                      const BodySink& sink, const HeadSink& on_head = {});

 private:
  HttpResponse send(const HttpRequest& req, const HeadSink& head, const BodySink& sink);
  void negotiate();

  std::string host_;
  std::string socket_;
  std::string version_;
  std::string server_version_;
  bool negotiated_ = false;
};

// Hijacked connections (attach, exec start): an HTTP request answered by "101 UPGRADED",
// after which the same socket carries the container's raw or multiplexed streams both ways.

struct HijackedConn {
  UniqueFd fd;
  std::string early;  // stream bytes that arrived together with the response head
};

// POSTs `path` with `Connection: Upgrade, Upgrade: tcp`. A non-2xx/101 answer throws ApiError
// with the daemon's message, as any other call does.
HijackedConn hijack(ApiClient& api, const std::string& path, const Query& q,
                    const nlohmann::json* body);

// Docker's multiplexed stream format (logs, attach and exec without a tty): every frame is an
// 8-byte header {stream, 0, 0, 0, big-endian uint32 length} followed by that many bytes.

class StdDemuxer {
 public:
  // stream: 0 stdin (echoed), 1 stdout, 2 stderr, 3 a system error from the daemon.
  using Sink = std::function<void(int stream, std::string_view data)>;
  explicit StdDemuxer(Sink sink) : sink_(std::move(sink)) {}
  // Accepts bytes as they arrive, whatever the chunk boundaries; payloads are handed on as
  // soon as they arrive rather than once a frame is whole, so output is never held back.
  void feed(std::string_view data);
  // True when the stream stopped in the middle of a frame.
  bool partial() const { return header_.size() != 0 || remaining_ != 0; }

 private:
  Sink sink_;
  std::string header_;
  int stream_ = 0;
  uint32_t remaining_ = 0;
};

// Writes demultiplexed frames to stdout/stderr; a stream-3 frame is the daemon's error text,
// which is returned by error() after the stream ends.
class StdWriter {
 public:
  StdWriter();
  StdWriter(const StdWriter&) = delete;  // the demuxer's sink points back at this
  StdWriter& operator=(const StdWriter&) = delete;
  void feed(std::string_view data) { demux_.feed(data); }
  const std::string& error() const { return error_; }

 private:
  StdDemuxer demux_;
  std::string error_;
};

// Streams of JSON values as the daemon sends them (pull, load, import, events).

// Cuts a byte stream into complete top-level JSON values, whatever the chunk boundaries.
class JsonSplitter {
 public:
  using Sink = std::function<void(const nlohmann::json&)>;
  explicit JsonSplitter(Sink sink) : sink_(std::move(sink)) {}
  void feed(std::string_view data);

 private:
  Sink sink_;
  std::string pending_;
  int depth_ = 0;
  bool in_string_ = false;
  bool escape_ = false;
};

}  // namespace berth::client
