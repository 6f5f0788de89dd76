// Human-readable sizes, durations, times and IDs, byte for byte as docker's go-units and
// stringid print them, so scripts that parse `docker images` output keep working against berth.
#pragma once

#include <cstdint>
#include <string>

namespace berth::cli {

// Decimal units ("4.27MB"); `precision` significant digits as Go's %.*g.
std::string human_size(double bytes, int precision = 4);
// Binary units ("7.773GiB"), as go-units BytesSize.
std::string bytes_size(double bytes);
// "Less than a second", "About a minute", "3 hours", "2 weeks", ...
std::string human_duration(int64_t nanoseconds);
// "2 hours ago" for a unix time, or "N/A" when the time is unknown (<= 0).
std::string time_ago(int64_t unix_seconds);
// Go's time.Time.String() in local time: "2024-01-02 15:04:05 +0000 UTC".
std::string go_time_string(int64_t unix_seconds);
// RFC 3339 in local time, seconds precision ("2024-01-02T15:04:05Z" or "...+01:00").
std::string rfc3339(int64_t unix_seconds);
// RFC 3339 with a fixed 9-digit fraction, as docker's jsonmessage.RFC3339NanoFixed.
std::string rfc3339_nano_fixed(int64_t unix_nanos);
// Parses docker's --since/--until values (unix seconds[.nanos], a Go duration meaning "that
// long ago", or an RFC 3339 date/time) into the "seconds.nanos" form the API takes.
std::string api_timestamp(const std::string& value, int64_t now_unix_nanos);
int64_t now_unix_nanos();
// Go's display-width ellipsis: at most `width` characters, the last one "…".
std::string ellipsis(const std::string& s, size_t width);
// "sha256:0123...cdef" -> "0123456789ab": drops the algorithm and keeps 12 characters.
std::string truncate_id(const std::string& id);

}  // namespace berth::cli
