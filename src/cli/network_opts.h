// The networking flags of create and run (--network, --ip, --link, --dns, --add-host, ...)
// validated and turned into HostConfig fields and NetworkingConfig as the docker CLI does.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::cli {

struct NetworkFlags {
  std::vector<std::string> networks, aliases, links, link_local_ips;
  std::vector<std::string> dns, dns_search, dns_options, extra_hosts;
  std::string ip, ip6, mac_address;
};

// Sets HostConfig's NetworkMode, Links, Dns, DnsSearch, DnsOptions and ExtraHosts, and returns
// the NetworkingConfig. Throws FlagError (FlagValueError for what pflag's validators refuse).
nlohmann::json apply_network_flags(const NetworkFlags& n, nlohmann::json& host);

// docker's opts validators, each returning the value as sent to the daemon.
std::string validate_extra_host(const std::string& val);  // "h=1.2.3.4" -> "h:1.2.3.4"
std::string validate_link(const std::string& val);
std::string validate_ip_address(const std::string& val);  // Go's net.ParseIP(...).String()
std::string validate_dns_search(const std::string& val);
bool is_mac_address(const std::string& val);  // Go's net.ParseMAC
// A network other than default, bridge, host, none and container:<id>.
bool is_user_defined_network(const std::string& mode);

}  // namespace berth::cli
