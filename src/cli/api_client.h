// The Engine API as the CLI sees it: version negotiation, JSON calls, streamed calls, and
// daemon errors turned into the one line docker prints.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "base/error.h"
#include "cli/http_client.h"

namespace berth::cli {

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

}  // namespace berth::cli
