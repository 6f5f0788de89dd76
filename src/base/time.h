#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace berth {

// The current UTC time as RFC 3339 with nanoseconds, the format OCI state and logs use.
std::string now_rfc3339();
// Nanoseconds since the epoch as RFC 3339 UTC with nanoseconds.
std::string format_rfc3339(int64_t unix_nano);
// "2026-11-25T00:36:26.123456789Z" or with a "+01:00" offset -> nanoseconds since the epoch;
// nullopt for what is not such a time, or one outside an int64 of nanoseconds (1677-2262).
std::optional<int64_t> parse_rfc3339(const std::string& s);
// Go's durations ("1h30m", "10m", "1.5s", "300ms") -> nanoseconds.
std::optional<int64_t> parse_go_duration(const std::string& s);
// Docker's API timestamps: "1700000000", "1700000000.5", RFC 3339, or a Go duration meaning
// that long before now -> nanoseconds since the epoch.
std::optional<int64_t> parse_api_time(const std::string& s);

}  // namespace berth
