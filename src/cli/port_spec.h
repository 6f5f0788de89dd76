// Port specs as the docker CLI reads them (-p, --expose, `port CONTAINER 80/tcp`) and the
// order in which it prints port lists.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace berth::cli {

// One -p value ("[ip:][hostPort:]containerPort[/proto]", ranges allowed, or the long form
// "target=80,published=8080,protocol=udp") added to the create body's ExposedPorts and
// HostConfig.PortBindings. Throws FlagError with docker's wording.
void parse_publish(const std::string& spec, nlohmann::json& exposed, nlohmann::json& bindings);
// One --expose value ("80", "80/udp", "8000-8010") added to ExposedPorts.
void parse_expose(const std::string& spec, nlohmann::json& exposed);
// A port number as Go's strconv.ParseUint(s, 10, 16); throws Error with Go's message.
uint16_t parse_port_number(const std::string& s);
// "net.JoinHostPort": brackets around an IPv6 host.
std::string join_host_port(const std::string& host, const std::string& port);
// The "natural" order docker sorts names and port lists in: runs of digits compare by value.
bool natural_less(const std::string& a, const std::string& b);

}  // namespace berth::cli
