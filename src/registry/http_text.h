// The text of HTTP that berthd's distribution client and berth-registry (its cache's upstream
// client and its auth) both speak: base64 (standard, and the URL-safe form JWTs use), query
// escaping, and WWW-Authenticate challenges.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

std::string base64_encode(std::string_view in);
// nullopt for text that is not base64; `url`: the URL-safe alphabet without padding.
std::optional<std::string> base64_decode(std::string_view in, bool url = false);
// "%XX"-escapes what a query value may not hold.
std::string query_escape(const std::string& s);

// One challenge of a WWW-Authenticate header: scheme lower-cased, parameters by lower-cased
// name ("realm", "service", "scope", "error").
struct Challenge {
  std::string scheme;
  std::map<std::string, std::string> params;
};
std::vector<Challenge> parse_www_authenticate(std::string_view header);

}  // namespace berth::registry
