#include "network/ports.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <charconv>
#include <set>

#include "base/error.h"

namespace berth::network {
namespace {

uint16_t parse_port(std::string_view text, const std::string& what) {
  unsigned v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || v > 65535)
    throw InvalidArgument("invalid " + what + ": " + std::string(text));
  return static_cast<uint16_t>(v);
}

// "80/tcp" -> (80, "tcp"); a key without a protocol is tcp, as Docker reads it.
std::pair<uint16_t, std::string> parse_key(const std::string& key) {
  auto slash = key.find('/');
  std::string proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
  if (proto != "tcp" && proto != "udp" && proto != "sctp")
    throw InvalidArgument("invalid proto: " + proto);
  if (proto == "sctp") throw InvalidArgument("sctp ports are not supported: " + key);
  uint16_t port = parse_port(key.substr(0, slash), "containerPort");
  if (port == 0) throw InvalidArgument("invalid containerPort: " + key);
  return {port, proto};
}

}  // namespace

std::vector<PortBinding> requested_ports(const nlohmann::json& config,
                                         const nlohmann::json& host_config) {
  std::vector<PortBinding> out;
  std::set<std::string> bound;
  auto pb = host_config.find("PortBindings");
  if (pb != host_config.end() && pb->is_object()) {
    for (auto& [key, list] : pb->items()) {
      auto [port, proto] = parse_key(key);
      bound.insert(std::to_string(port) + "/" + proto);
      if (!list.is_array() || list.empty()) {
        out.push_back({proto, port, {}, 0});
        continue;
      }
      for (auto& b : list) {
        PortBinding r{proto, port, {}, 0};
        if (b.is_object()) {
          std::string ip = b.value("HostIp", "");
          if (!ip.empty()) {
            if (ip.find(':') != std::string::npos) continue;  // IPv6 bindings: IPv4 only here
            r.host_ip = Ipv4::parse(ip, "IP address");
          }
          std::string hp = b.value("HostPort", "");
          if (!hp.empty()) r.host_port = parse_port(hp, "hostPort");
        }
        out.push_back(r);
      }
    }
  }
  if (host_config.value("PublishAllPorts", false)) {
    auto ep = config.find("ExposedPorts");
    if (ep != config.end() && ep->is_object())
      for (auto& [key, _] : ep->items()) {
        auto [port, proto] = parse_key(key);
        if (bound.insert(std::to_string(port) + "/" + proto).second)
          out.push_back({proto, port, {}, 0});
      }
  }
  return out;
}

UniqueFd reserve_port(PortBinding& b) {
  int type = b.proto == "udp" ? SOCK_DGRAM : SOCK_STREAM;
  UniqueFd fd(::socket(AF_INET, type | SOCK_CLOEXEC, 0));
  if (!fd) throw_errno("socket for a published port");
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = b.host_ip.network_order();
  sa.sin_port = htons(b.host_port);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof sa) < 0) {
    int err = errno;
    std::string where = b.host_ip.str() + ":" + std::to_string(b.host_port);
    if (err == EADDRINUSE)
      throw Conflict("Bind for " + where + " failed: port is already allocated");
    throw_errno("bind " + where + "/" + b.proto, err);
  }
  socklen_t len = sizeof sa;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&sa), &len);
  b.host_port = ntohs(sa.sin_port);
  return fd;
}

std::vector<std::string> exposed_port_keys(const nlohmann::json& config,
                                           const nlohmann::json& host_config) {
  std::set<std::string> keys;
  for (const auto* src : {&config, &host_config}) {
    const char* field = src == &config ? "ExposedPorts" : "PortBindings";
    auto it = src->find(field);
    if (it == src->end() || !it->is_object()) continue;
    for (auto& [key, _] : it->items()) {
      auto [port, proto] = parse_key(key);
      keys.insert(std::to_string(port) + "/" + proto);
    }
  }
  return {keys.begin(), keys.end()};
}

}  // namespace berth::network
