#include "cli/port_spec.h"

#include <arpa/inet.h>

#include <cctype>
#include <utility>
#include <vector>

#include "base/fs.h"
#include "cli/container_opts.h"

namespace berth::cli {

using nlohmann::json;

namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_ip(const std::string& s) {
  unsigned char buf[16];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// "8000-8010" or "80"; the error text is what docker's nat.ParsePortRange says.
std::pair<uint64_t, uint64_t> port_range(const std::string& s) {
  if (s.empty()) throw Error("empty string specified for ports");
  size_t dash = s.find('-');
  if (dash == std::string::npos) {
    uint64_t p = parse_port_number(s);
    return {p, p};
  }
  size_t next = s.find('-', dash + 1);  // like Go's Split, anything after a second '-' is ignored
  uint64_t lo = parse_port_number(s.substr(0, dash));
  uint64_t hi = parse_port_number(s.substr(dash + 1, next - dash - 1));
  if (hi < lo) throw Error("invalid range specified for port: " + s);
  return {lo, hi};
}

// "80/udp" -> {"udp", "80"}; a missing or empty protocol is tcp.
std::pair<std::string, std::string> split_proto_port(const std::string& s) {
  size_t slash = s.find('/');
  if (s.empty() || slash == 0) return {"", ""};
  if (slash == std::string::npos) return {"tcp", s};
  std::string proto = s.substr(slash + 1, s.find('/', slash + 1) - slash - 1);
  return {proto.empty() ? "tcp" : proto, s.substr(0, slash)};
}

// The long form "target=80,published=8080,protocol=udp" as the short one, "8080:80/udp".
std::string standard_notation(const std::string& spec) {
  if (spec.find('=') == std::string::npos) return spec;
  std::string target, published, protocol = "tcp";
  for (const auto& param : split(spec, ',')) {
    size_t eq = param.find('=');
    if (eq == std::string::npos || eq == 0)
      throw FlagError("invalid publish opts format (should be name=value but got '" + param + "')");
    std::string k = param.substr(0, eq), v = param.substr(eq + 1);
    if (k == "target") target = v;
    if (k == "published") published = v;
    if (k == "protocol") protocol = v;
  }
  return published + ":" + target + "/" + protocol;
}

}  // namespace

uint16_t parse_port_number(const std::string& s) {
  bool digits = !s.empty();
  for (char c : s) digits = digits && is_digit(c);
  if (!digits) throw Error("strconv.ParseUint: parsing \"" + s + "\": invalid syntax");
  size_t start = s.find_first_not_of('0');
  if (start != std::string::npos && (s.size() - start > 5 || std::stoul(s.substr(start)) > 65535))
    throw Error("strconv.ParseUint: parsing \"" + s + "\": value out of range");
  return start == std::string::npos ? 0 : static_cast<uint16_t>(std::stoul(s.substr(start)));
}

void parse_publish(const std::string& raw_spec, json& exposed, json& bindings) {
  std::string raw = standard_notation(raw_spec);
  // Everything before the last two colons is the address, so IPv6 needs no brackets.
  std::vector<std::string> parts = split(raw, ':');
  std::string ip, host, container = parts.back();
  if (parts.size() >= 2) host = parts[parts.size() - 2];
  for (size_t i = 0; i + 2 < parts.size(); ++i) ip += (i ? ":" : "") + parts[i];
  auto [proto, port] = split_proto_port(container);
  if (!ip.empty() && ip.front() == '[') {
    if (ip.back() != ']') throw FlagError("invalid IP address " + ip + ": missing ']' in address");
    ip = ip.substr(1, ip.size() - 2);
  }
  if (!ip.empty() && !is_ip(ip)) throw FlagError("invalid IP address: " + ip);
  if (port.empty()) throw FlagError("no port specified: " + raw + "<empty>");
  std::pair<uint64_t, uint64_t> cports, hports{0, 0};
  try {
    cports = port_range(port);
  } catch (const Error&) {
    throw FlagError("invalid containerPort: " + port);
  }
  if (!host.empty()) {
    try {
      hports = port_range(host);
    } catch (const Error&) {
      throw FlagError("invalid hostPort: " + host);
    }
  }
  bool one_port = cports.first == cports.second;
  // A host range for a single container port is the pool the daemon picks one from.
  if (!host.empty() && !one_port && cports.second - cports.first != hports.second - hports.first)
    throw FlagError("invalid ranges specified for container and host Ports: " + port + " and " +
                    host);
  std::string lproto = lower(proto);
  if (lproto != "tcp" && lproto != "udp" && lproto != "sctp")
    throw FlagError("invalid proto: " + proto);
  for (uint64_t i = 0; i <= cports.second - cports.first; ++i) {
    std::string key = std::to_string(cports.first + i) + "/" + lproto;
    std::string hp = host.empty() ? "" : std::to_string(hports.first + i);
    if (one_port && hports.first != hports.second) hp += "-" + std::to_string(hports.second);
    exposed[key] = json::object();
    bindings[key].push_back({{"HostIp", ip}, {"HostPort", hp}});
  }
}

void parse_expose(const std::string& spec, json& exposed) {
  if (spec.find(':') != std::string::npos)
    throw FlagError("invalid port format for --expose: " + spec);
  auto [proto, ports] = split_proto_port(spec);
  std::pair<uint64_t, uint64_t> range;
  try {
    range = port_range(ports);
  } catch (const Error& e) {
    throw FlagError("invalid range format for --expose: " + spec + ", error: " + e.what());
  }
  for (uint64_t p = range.first; p <= range.second; ++p)
    exposed[std::to_string(p) + "/" + proto] = json::object();
}

std::string join_host_port(const std::string& host, const std::string& port) {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + port;
  return host + ":" + port;
}

bool natural_less(const std::string& a, const std::string& b) {
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    bool da = is_digit(a[i]), db = is_digit(b[j]);
    if (da != db) return da;  // digits sort before anything else
    if (!da) {
      if (a[i] != b[j]) return static_cast<unsigned char>(a[i]) < static_cast<unsigned char>(b[j]);
      ++i, ++j;
      continue;
    }
    while (i < a.size() && a[i] == '0') ++i;
    while (j < b.size() && b[j] == '0') ++j;
    size_t na = i, nb = j;
    while (i < a.size() && is_digit(a[i])) ++i;
    while (j < b.size() && is_digit(b[j])) ++j;
    std::string ra = a.substr(na, i - na), rb = b.substr(nb, j - nb);
    if (ra.size() != rb.size()) return ra.size() < rb.size();
    if (ra != rb) return ra < rb;
    if (na != nb) return na < nb;  // equal values: fewer leading zeros first
  }
  return a.size() < b.size();
}

}  // namespace berth::cli
