// A hand parser for the grammar in distribution/reference's regexp.go. The grammar has one
// reading per string (names hold ':' only in a domain, which a '/' follows; tags and digests
// hold no '/'), so splitting on '@', then the ':' after the last '/', then the first '/' gives
// the same captures as Go's anchored regexp.
#include "oci/reference.h"

#include <algorithm>
#include <optional>
#include <string_view>

#include "base/error.h"

namespace berth::oci {
namespace {

constexpr std::string_view kDefaultDomain = "docker.io";
constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
constexpr std::string_view kOfficialPrefix = "library/";
constexpr std::string_view kLocalhost = "localhost";
constexpr size_t kMaxPathLength = 255;
constexpr size_t kMaxTagLength = 128;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_lower(char c) {
  return c >= 'a' && c <= 'z';
}
bool is_upper(char c) {
  return c >= 'A' && c <= 'Z';
}
bool is_alpha(char c) {
  return is_lower(c) || is_upper(c);
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
bool is_word(char c) {
  return is_alnum(c) || c == '_';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
bool is_lower_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool has_upper(std::string_view s) {
  return std::any_of(s.begin(), s.end(), is_upper);
}
template <typename Pred>
bool all_chars(std::string_view s, Pred pred) {
  return std::all_of(s.begin(), s.end(), pred);
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
  return out;
}

// Calls fn on each piece of s between separators; stops early when fn returns false.
template <typename Fn>
bool all_pieces(std::string_view s, char sep, Fn fn) {
  for (;;) {
    size_t end = s.find(sep);
    if (!fn(s.substr(0, end))) return false;
    if (end == std::string_view::npos) return true;
    s.remove_prefix(end + 1);
  }
}

// [a-z0-9]+ joined by ".", "_", "__" or any run of "-".
bool is_path_component(std::string_view s) {
  size_t i = 0;
  for (;;) {
    size_t run = i;
    while (i < s.size() && (is_lower(s[i]) || is_digit(s[i]))) i++;
    if (i == run) return false;
    if (i == s.size()) return true;
    size_t sep = i;
    while (i < s.size() && !is_lower(s[i]) && !is_digit(s[i])) i++;
    std::string_view sv = s.substr(sep, i - sep);
    if (sv != "." && sv != "_" && sv != "__" && !all_chars(sv, [](char c) { return c == '-'; }))
      return false;
  }
}

bool is_remote_name(std::string_view s) {
  return all_pieces(s, '/', is_path_component);
}

// A DNS label as Docker restricts it: alphanumerics, with '-' only inside.
bool is_domain_label(std::string_view s) {
  return !s.empty() && is_alnum(s.front()) && is_alnum(s.back()) &&
         all_chars(s, [](char c) { return is_alnum(c) || c == '-'; });
}

// "" or ":<digits>".
bool is_optional_port(std::string_view s) {
  return s.empty() || (s.size() > 1 && s[0] == ':' && all_chars(s.substr(1), is_digit));
}

// host[:port], host being a dotted name, an IPv4 address or a bracketed IPv6 address.
// Zone ids and IPv4-mapped IPv6 are refused, as Docker does.
bool is_domain(std::string_view s) {
  if (s.starts_with('[')) {
    size_t close = s.find(']');
    if (close == std::string_view::npos || close == 1) return false;
    std::string_view ip = s.substr(1, close - 1);
    return all_chars(ip, [](char c) { return is_hex(c) || c == ':'; }) &&
           is_optional_port(s.substr(close + 1));
  }
  size_t colon = s.find(':');
  return all_pieces(s.substr(0, colon), '.', is_domain_label) &&
         (colon == std::string_view::npos || is_optional_port(s.substr(colon)));
}

bool is_tag(std::string_view s) {
  return !s.empty() && s.size() <= kMaxTagLength && is_word(s[0]) &&
         all_chars(s, [](char c) { return is_word(c) || c == '.' || c == '-'; });
}

// algorithm ":" 32+ hex, algorithm being [A-Za-z][A-Za-z0-9]* parts joined by one of "-_+.".
bool is_digest_syntax(std::string_view s) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view hex = s.substr(colon + 1);
  if (hex.size() < 32 || !all_chars(hex, is_hex)) return false;
  std::string_view algorithm = s.substr(0, colon);
  size_t i = 0;
  for (;;) {
    if (i >= algorithm.size() || !is_alpha(algorithm[i])) return false;
    while (i < algorithm.size() && is_alnum(algorithm[i])) i++;
    if (i == algorithm.size()) return true;
    if (std::string_view("-_+.").find(algorithm[i]) == std::string_view::npos) return false;
    i++;
  }
}

// go-digest's Validate for a digest that passed is_digest_syntax. The algorithms are those a
// dockerd binary has registered: sha256, plus sha384/sha512 which crypto/tls links in.
void validate_digest(std::string_view s) {
  size_t colon = s.find(':');
  std::string_view algorithm = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  size_t hex_length = algorithm == "sha256"   ? 64
                      : algorithm == "sha384" ? 96
                      : algorithm == "sha512" ? 128
                                              : 0;
  // go-digest's own grammar for unknown algorithms is lowercase only.
  if (hex_length == 0)
    throw InvalidArgument(has_upper(algorithm) ? "invalid checksum digest format"
                                               : "unsupported digest algorithm");
  if (hex.size() != hex_length) throw InvalidArgument("invalid checksum digest length");
  if (!all_chars(hex, is_lower_hex)) throw InvalidArgument("invalid checksum digest format");
}

// Go's referenceRegexp and anchoredNameRegexp: nullopt when s does not match.
std::optional<Reference> match_reference(std::string_view s) {
  Reference ref;
  if (size_t at = s.find('@'); at != std::string_view::npos) {
    if (!is_digest_syntax(s.substr(at + 1))) return std::nullopt;
    ref.digest = s.substr(at + 1);
    s = s.substr(0, at);
  }
  size_t last_slash = s.rfind('/');
  if (size_t colon = s.find(':', last_slash == std::string_view::npos ? 0 : last_slash);
      colon != std::string_view::npos) {
    if (!is_tag(s.substr(colon + 1))) return std::nullopt;
    ref.tag = s.substr(colon + 1);
    s = s.substr(0, colon);
  }
  // The regexp prefers a domain; a first component that is no domain stays in the path.
  size_t slash = s.find('/');
  if (slash != std::string_view::npos && is_domain(s.substr(0, slash)) &&
      is_remote_name(s.substr(slash + 1))) {
    ref.domain = s.substr(0, slash);
    ref.path = s.substr(slash + 1);
  } else if (is_remote_name(s)) {
    ref.path = s;
  } else {
    return std::nullopt;
  }
  return ref;
}

// Go's reference.Parse.
Reference parse_canonical(const std::string& s) {
  std::optional<Reference> ref = match_reference(s);
  if (!ref) {
    // Reachable after the caller's lowercase check when an uppercase first component was
    // taken for a domain but is no valid one, e.g. "Foo_Bar/x".
    if (has_upper(s) && match_reference(to_lower(s)))
      throw InvalidArgument("repository name must be lowercase");
    throw InvalidArgument("invalid reference format");
  }
  if (ref->path.size() > kMaxPathLength)
    throw InvalidArgument("repository name must not be more than " +
                          std::to_string(kMaxPathLength) + " characters");
  if (!ref->digest.empty()) validate_digest(ref->digest);
  return *ref;
}

bool is_identifier(std::string_view s) {
  return s.size() == 64 && all_chars(s, is_lower_hex);
}

// Go's splitDockerDomain: the first component is a domain when it is "localhost", holds
// '.' or ':', or has uppercase (which a path may not); "ubuntu" is docker.io/library/ubuntu.
std::pair<std::string, std::string> split_docker_domain(const std::string& s) {
  size_t slash = s.find('/');
  if (slash == std::string::npos)
    return {std::string(kDefaultDomain), std::string(kOfficialPrefix) + s};
  std::string first = s.substr(0, slash);
  std::string rest = s.substr(slash + 1);
  std::string domain;
  if (first == kLegacyDefaultDomain) {
    domain = kDefaultDomain;
  } else if (first == kLocalhost || first.find_first_of(".:") != std::string::npos ||
             has_upper(first)) {
    domain = first;
  } else {
    domain = kDefaultDomain;
    rest = s;
  }
  if (domain == kDefaultDomain && rest.find('/') == std::string::npos)
    rest = std::string(kOfficialPrefix) + rest;
  return {domain, rest};
}

std::string with_suffixes(std::string name, const Reference& ref) {
  if (!ref.tag.empty()) name += ":" + ref.tag;
  if (!ref.digest.empty()) name += "@" + ref.digest;
  return name;
}

}  // namespace

std::string Reference::name() const {
  return domain.empty() ? path : domain + "/" + path;
}

std::string Reference::familiar_name() const {
  if (domain != kDefaultDomain) return name();
  // Only a single component under library/ is shortened: "library/a/b" stays as it is.
  if (path.starts_with(kOfficialPrefix) &&
      path.find('/', kOfficialPrefix.size()) == std::string::npos)
    return path.substr(kOfficialPrefix.size());
  return path;
}

std::string Reference::string() const {
  return with_suffixes(name(), *this);
}

std::string Reference::familiar_string() const {
  return with_suffixes(familiar_name(), *this);
}

Reference parse_reference(const std::string& s) {
  if (is_identifier(s))
    throw InvalidArgument("invalid repository name (" + s +
                          "), cannot specify 64-byte hexadecimal strings");
  auto [domain, remainder] = split_docker_domain(s);
  // Docker checks the case of everything up to the first ':', which may reach past an '@'.
  std::string remote = remainder.substr(0, remainder.find(':'));
  if (has_upper(remote))
    throw InvalidArgument("invalid reference format: repository name (" + remote +
                          ") must be lowercase");
  return parse_canonical(domain + "/" + remainder);
}

Reference parse_reference_with_default_tag(const std::string& s) {
  Reference ref = parse_reference(s);
  if (ref.tag.empty() && ref.digest.empty()) ref.tag = "latest";
  return ref;
}

bool looks_like_full_id(const std::string& s) {
  std::string_view v = s;
  if (v.starts_with("sha256:")) v.remove_prefix(7);
  return is_identifier(v);
}

void check_tag(const std::string& tag) {
  if (!is_tag(tag)) throw InvalidArgument("invalid tag format");
}

}  // namespace berth::oci
