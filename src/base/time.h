#pragma once

#include <string>

namespace berth {

// The current UTC time as RFC 3339 with nanoseconds, the format OCI state and logs use.
std::string now_rfc3339();

}  // namespace berth
