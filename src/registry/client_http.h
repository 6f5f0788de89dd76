// One HTTP exchange with libcurl, for the client's requests and the token service's.
#pragma once

#include <curl/curl.h>

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "registry/client.h"

namespace berth::registry::wire {

struct HttpCall {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  // A body given whole, or streamed from `source` (chunked when its size is unknown).
  std::optional<std::string_view> body;
  const SourceFn* source = nullptr;
  // The body of a 2xx answer goes here instead of into HttpResult::body.
  const SinkFn* sink = nullptr;
  const ProgressFn* progress = nullptr;  // bytes received (or sent, for uploads)
  bool follow_redirects = true;
};

struct HttpResult {
  long status = 0;
  std::map<std::string, std::string> headers;  // lower-case names; the last of each
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

using CurlHandle = std::unique_ptr<CURL, decltype(&curl_easy_cleanup)>;
CurlHandle new_curl();

// Throws Unavailable naming the URL when the exchange itself fails (refused, timed out,
// dropped); any HTTP status is returned.
HttpResult perform(CURL* curl, const HttpCall& call);

}  // namespace berth::registry::wire
