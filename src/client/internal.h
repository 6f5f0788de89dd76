// What the client's own files share; nothing here is for its users.
#pragma once

#include <string>

#include "client/client.h"

namespace berth::client {

inline constexpr const char* kUserAgent = "berth-cli/" BERTH_VERSION;

// The daemon's message from an error body ({"message": ...} or plain text), or
// "HTTP status N" when it sent none.
std::string daemon_message(int status, const std::string& body);

// What docker says when nothing answers at `host`.
ConnectError cannot_connect(const std::string& host);

}  // namespace berth::client
