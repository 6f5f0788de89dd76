#include "cli/network_opts.h"

#include <arpa/inet.h>

#include <cctype>
#include <cstring>
#include <set>

#include "base/fs.h"
#include "cli/container_opts.h"

namespace berth::cli {

using nlohmann::json;

namespace {

// One --network value: a name, or docker's "name=n,alias=a,ip=..." attachment syntax.
struct Attachment {
  std::string target, ip, ip6, mac;
  std::vector<std::string> aliases, links, link_local_ips;
  json driver_opts = json::object();
};

bool is_word_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

// docker takes a value as the long syntax when it matches \w+=\w+ anywhere.
bool long_syntax(const std::string& v) {
  for (size_t eq = v.find('='); eq != std::string::npos; eq = v.find('=', eq + 1))
    if (eq > 0 && eq + 1 < v.size() && is_word_char(v[eq - 1]) && is_word_char(v[eq + 1]))
      return true;
  return false;
}

Attachment parse_attachment(const std::string& value) {
  Attachment a;
  if (!long_syntax(value)) {
    a.target = value;
    return a;
  }
  auto bad = [&](const std::string& why) { throw FlagValueError(value, "--network", why); };
  for (const auto& field : split(value, ',')) {
    // docker lowercases the whole field, values included.
    std::string f = field;
    for (auto& c : f) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    size_t eq = f.find('=');
    if (eq == std::string::npos || eq == 0) bad("invalid field " + field);
    std::string key = trim(f.substr(0, eq)), val = trim(f.substr(eq + 1));
    if (key == "name") {
      a.target = val;
    } else if (key == "alias") {
      a.aliases.push_back(val);
    } else if (key == "ip") {
      a.ip = val;
    } else if (key == "ip6") {
      a.ip6 = val;
    } else if (key == "mac-address") {
      a.mac = val;
    } else if (key == "link-local-ip") {
      a.link_local_ips.push_back(val);
    } else if (key == "driver-opt") {
      size_t deq = val.find('=');
      if (deq == std::string::npos) bad("invalid key value pair format in driver options");
      a.driver_opts[trim(val.substr(0, deq))] = trim(val.substr(deq + 1));
    } else {
      bad("invalid field key " + key);
    }
  }
  if (a.target.empty()) bad("network name/id is not specified");
  return a;
}

// The plain --ip, --network-alias, ... flags describe the first network.
void apply_plain_flags(Attachment& a, const NetworkFlags& n) {
  auto conflict = [](const std::string& what) {
    throw FlagError("conflicting options: cannot specify both " + what);
  };
  if (!a.aliases.empty() && !n.aliases.empty()) conflict("--network-alias and per-network alias");
  if (!a.ip.empty() && !n.ip.empty()) conflict("--ip and per-network IPv4 address");
  if (!a.ip6.empty() && !n.ip6.empty()) conflict("--ip6 and per-network IPv6 address");
  if (!a.mac.empty() && !n.mac_address.empty())
    conflict("--mac-address and per-network MAC address");
  if (!a.link_local_ips.empty() && !n.link_local_ips.empty())
    conflict("--link-local-ip and per-network link-local IP addresses");
  if (!n.aliases.empty()) a.aliases = n.aliases;
  // On a user-defined network a link is an alias of the endpoint; on the default bridge it
  // is a legacy link, carried by HostConfig.Links alone.
  if (is_user_defined_network(a.target) && !n.links.empty()) a.links = n.links;
  if (!n.ip.empty()) a.ip = n.ip;
  if (!n.ip6.empty()) a.ip6 = n.ip6;
  if (!n.mac_address.empty()) a.mac = n.mac_address;
  if (!n.link_local_ips.empty()) a.link_local_ips = n.link_local_ips;
}

// The EndpointSettings for an attachment, or null when it sets nothing.
json endpoint_settings(const Attachment& a) {
  if (trim(a.target).empty()) throw FlagError("no name set for network");
  if (!is_user_defined_network(a.target)) {
    if (!a.aliases.empty())
      throw FlagError("network-scoped aliases are only supported for user-defined networks");
    if (!a.links.empty()) throw FlagError("links are only supported for user-defined networks");
  }
  json ep = {{"Aliases", a.aliases.empty() ? json(nullptr) : json(a.aliases)},
             {"DriverOpts", a.driver_opts.empty() ? json(nullptr) : a.driver_opts},
             {"IPAMConfig", nullptr},
             {"Links", a.links.empty() ? json(nullptr) : json(a.links)},
             {"MacAddress", a.mac}};
  if (!a.ip.empty() || !a.ip6.empty() || !a.link_local_ips.empty()) {
    json ipam = json::object();
    if (!a.ip.empty()) ipam["IPv4Address"] = a.ip;
    if (!a.ip6.empty()) ipam["IPv6Address"] = a.ip6;
    if (!a.link_local_ips.empty()) ipam["LinkLocalIPs"] = a.link_local_ips;
    ep["IPAMConfig"] = ipam;
  }
  if (!a.mac.empty() && !is_mac_address(a.mac))
    throw FlagError(a.mac + " is not a valid mac address");
  return ep;
}

bool empty_endpoint(const json& ep) {
  for (const auto& [k, v] : ep.items())
    if (!v.is_null() && v != "") return false;
  return true;
}

bool hex_digits(const std::string& s, size_t from, size_t n) {
  if (from + n > s.size()) return false;
  for (size_t i = from; i < from + n; ++i)
    if (!std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  return true;
}

// A domain label: letters, digits and inner hyphens.
bool valid_label(const std::string& l) {
  if (l.empty() || !std::isalnum(static_cast<unsigned char>(l.front())) ||
      !std::isalnum(static_cast<unsigned char>(l.back())))
    return false;
  for (char c : l)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') return false;
  return true;
}

}  // namespace

bool is_user_defined_network(const std::string& mode) {
  static const std::set<std::string> kBuiltin = {"default", "bridge", "host", "none"};
  return !kBuiltin.count(mode) && mode.rfind("container:", 0) != 0;
}

bool is_mac_address(const std::string& s) {
  // 6, 8 or 20 bytes as hex pairs split by ':' or '-', or as dotted groups of four.
  if (s.size() >= 14 && s[4] == '.') {
    size_t groups = (s.size() + 1) / 5;
    if ((s.size() + 1) % 5 != 0 || (groups != 3 && groups != 4 && groups != 10)) return false;
    for (size_t g = 0; g < groups; ++g)
      if (!hex_digits(s, g * 5, 4) || (g + 1 < groups && s[g * 5 + 4] != '.')) return false;
    return true;
  }
  if (s.size() < 14 || (s[2] != ':' && s[2] != '-')) return false;
  size_t bytes = (s.size() + 1) / 3;
  if ((s.size() + 1) % 3 != 0 || (bytes != 6 && bytes != 8 && bytes != 20)) return false;
  for (size_t b = 0; b < bytes; ++b)
    if (!hex_digits(s, b * 3, 2) || (b + 1 < bytes && s[b * 3 + 2] != s[2])) return false;
  return true;
}

std::string validate_ip_address(const std::string& val) {
  std::string ip = trim(val);
  unsigned char buf[16];
  char text[INET6_ADDRSTRLEN];
  if (::inet_pton(AF_INET, ip.c_str(), buf) == 1)
    return ::inet_ntop(AF_INET, buf, text, sizeof text);
  if (::inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    // Go prints an IPv4-mapped address as plain IPv4.
    static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(buf, kMapped, 12) == 0)
      return ::inet_ntop(AF_INET, buf + 12, text, sizeof text);
    return ::inet_ntop(AF_INET6, buf, text, sizeof text);
  }
  throw Error("IP address is not correctly formatted: " + val);
}

std::string validate_extra_host(const std::string& val) {
  size_t sep = val.find('=');
  // The older host:ip form splits at the first colon, so IPv6 addresses stay whole.
  if (sep == std::string::npos) sep = val.find(':');
  std::string host = sep == std::string::npos ? "" : val.substr(0, sep);
  if (host.empty() || host.find(':') != std::string::npos)
    throw FlagValueError(val, "--add-host", "bad format for add-host: \"" + val + "\"");
  std::string ip = val.substr(sep + 1);
  if (ip != "host-gateway") {
    if (ip.size() > 2 && ip.front() == '[' && ip.back() == ']') ip = ip.substr(1, ip.size() - 2);
    try {
      validate_ip_address(ip);
    } catch (const Error&) {
      throw FlagValueError(val, "--add-host", "invalid IP address in add-host: \"" + ip + "\"");
    }
  }
  return host + ":" + ip;
}

std::string validate_link(const std::string& val) {
  if (val.empty()) throw FlagValueError(val, "--link", "empty string specified for links");
  if (split(val, ':').size() > 2)
    throw FlagValueError(val, "--link", "bad format for links: " + val);
  return val;
}

std::string validate_dns_search(const std::string& raw) {
  std::string val = raw;
  while (!val.empty() && val.front() == ' ') val.erase(0, 1);
  while (!val.empty() && val.back() == ' ') val.pop_back();
  if (val == ".") return val;
  auto bad = [&] { throw FlagValueError(raw, "--dns-search", val + " is not a valid domain"); };
  std::string domain = val;
  while (!domain.empty() && std::isspace(static_cast<unsigned char>(domain.back())))
    domain.pop_back();
  if (!domain.empty() && domain.back() == '.') domain.pop_back();
  bool letter = false;
  for (char c : domain) letter = letter || std::isalpha(static_cast<unsigned char>(c));
  if (!letter || domain.size() >= 255) bad();
  for (const auto& label : split(domain, '.'))
    if (!valid_label(label)) bad();
  return domain;
}

json apply_network_flags(const NetworkFlags& n, json& host) {
  json dns = json::array(), search = json::array(), hosts = json::array(), links = json::array();
  for (const auto& d : n.dns) {
    try {
      dns.push_back(validate_ip_address(d));
    } catch (const Error& e) {
      throw FlagValueError(d, "--dns", e.what());
    }
  }
  for (const auto& s : n.dns_search) search.push_back(validate_dns_search(s));
  for (const auto& h : n.extra_hosts) hosts.push_back(validate_extra_host(h));
  for (const auto& l : n.links) links.push_back(validate_link(l));
  if (!n.mac_address.empty() && !is_mac_address(n.mac_address))
    throw FlagError(n.mac_address + " is not a valid mac address");

  json endpoints = json::object();
  if (n.networks.empty()) {
    Attachment a;
    a.target = "default";
    apply_plain_flags(a, n);
    endpoints["default"] = endpoint_settings(a);
  }
  bool user_defined = false, builtin = false;
  for (size_t i = 0; i < n.networks.size(); ++i) {
    Attachment a = parse_attachment(n.networks[i]);
    (is_user_defined_network(a.target) ? user_defined : builtin) = true;
    if (i == 0) apply_plain_flags(a, n);
    json ep = endpoint_settings(a);
    if (endpoints.contains(a.target))
      throw FlagError("network \"" + a.target + "\" is specified multiple times");
    // One network without options needs no endpoint config: the daemon makes it.
    if (i == 0 && n.networks.size() == 1 && empty_endpoint(ep)) continue;
    endpoints[a.target] = ep;
  }
  if (user_defined && builtin)
    throw FlagError(
        "conflicting options: cannot attach both user-defined and non-user-defined "
        "network-modes");

  host["NetworkMode"] = n.networks.empty() ? "default" : parse_attachment(n.networks[0]).target;
  host["Links"] = links.empty() ? json(nullptr) : links;
  host["Dns"] = dns;
  host["DnsOptions"] = n.dns_options;
  host["DnsSearch"] = search;
  host["ExtraHosts"] = hosts.empty() ? json(nullptr) : hosts;
  return {{"EndpointsConfig", endpoints}};
}

}  // namespace berth::cli
