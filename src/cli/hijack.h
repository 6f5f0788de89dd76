// Hijacked connections (attach, exec start): an HTTP request answered by "101 UPGRADED",
// after which the same socket carries the container's raw or multiplexed streams both ways.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "base/fd.h"
#include "cli/api_client.h"

namespace berth::cli {

struct HijackedConn {
  UniqueFd fd;
  std::string early;  // stream bytes that arrived together with the response head
};

// POSTs `path` with `Connection: Upgrade, Upgrade: tcp`. A non-2xx/101 answer throws ApiError
// with the daemon's message, as any other call does.
HijackedConn hijack(ApiClient& api, const std::string& path, const Query& q,
                    const nlohmann::json* body);

}  // namespace berth::cli
