// POST /networks/create's body decoded on its own: what needs neither the other networks nor
// the host, so that it can be tested and fuzzed without a daemon.
#include "base/error.h"
#include "network/ipam.h"
#include "network/network.h"

namespace berth::network {

using nlohmann::json;

NetworkRequest decode_network_create(const json& req, const std::string& id, int default_mtu) {
  if (!req.is_object()) throw InvalidArgument("network create: expected a JSON object");
  std::string name = req.value("Name", "");
  if (name.empty()) throw InvalidArgument("network name is required");
  std::string driver = req.value("Driver", "");
  if (driver.empty()) driver = "bridge";
  if (driver != "bridge") {
    if (driver == "host" || driver == "null")
      throw Forbidden("only one instance of \"" + driver + "\" network is allowed");
    throw NotFound("plugin \"" + driver + "\" not found");
  }
  if (req.value("EnableIPv6", false))
    throw InvalidArgument("IPv6 networks are not supported by berth yet");

  NetworkRequest out;
  Network& n = out.network;
  n.id = id;
  n.name = name;
  n.driver = driver;
  n.internal = req.value("Internal", false);
  n.attachable = req.value("Attachable", false);
  if (req.contains("Labels") && req["Labels"].is_object()) n.labels = req["Labels"];
  if (req.contains("Options") && req["Options"].is_object()) n.options = req["Options"];
  for (auto& [k, v] : n.options.items())
    if (!v.is_string()) throw InvalidArgument("network option " + k + " must be a string");
  n.bridge = n.options.value(kBridgeName, "br-" + n.id.substr(0, 12));
  if (n.bridge.empty() || n.bridge.size() > 15 || n.bridge.find('/') != std::string::npos)
    throw InvalidArgument("invalid bridge name " + n.bridge);
  n.icc = n.options.value(kEnableIcc, "true") != "false";
  n.mtu = default_mtu;
  if (n.options.contains(kMtu)) {
    try {
      n.mtu = std::stoi(n.options[kMtu].get<std::string>());
    } catch (const std::exception&) {
      throw InvalidArgument("invalid MTU " + n.options[kMtu].get<std::string>());
    }
    if (n.mtu < 68 || n.mtu > 65535) throw InvalidArgument("invalid MTU " + std::to_string(n.mtu));
  }

  json ipam = req.value("IPAM", json::object());
  if (!ipam.is_object()) ipam = json::object();
  std::string ipam_driver = ipam.value("Driver", "");
  if (!ipam_driver.empty() && ipam_driver != "default")
    throw NotFound("plugin \"" + ipam_driver + "\" not found");
  json configs = ipam.value("Config", json::array());
  if (!configs.is_array()) configs = json::array();
  json v4;
  for (auto& c : configs) {
    // Go decodes null as the field's zero value: absent, for every field of a pool.
    if (c.is_object())
      for (auto it = c.begin(); it != c.end();) it = it.value().is_null() ? c.erase(it) : ++it;
    std::string subnet = c.is_object() ? c.value("Subnet", "") : "";
    if (subnet.find(':') != std::string::npos)
      throw InvalidArgument("IPv6 subnets are not supported by berth yet: " + subnet);
    if (!v4.is_null()) throw InvalidArgument("only one IPv4 subnet per network is supported");
    v4 = c;
  }
  if (v4.is_object() && !v4.value("Subnet", "").empty()) {
    out.subnet_given = true;
    n.subnet = Ipv4Prefix::parse(v4.value("Subnet", ""), "subnet");
    std::string gw = v4.value("Gateway", "");
    n.gateway = gw.empty() ? Ipv4{n.subnet.network().value + 1} : Ipv4::parse(gw, "gateway");
    if (!v4.value("IPRange", "").empty())
      n.ip_range = Ipv4Prefix::parse(v4.value("IPRange", ""), "ip-range");
    check_ipam(n.subnet, n.gateway, n.ip_range);
    if (auto aux = v4.value("AuxiliaryAddresses", json::object()); aux.is_object()) {
      for (auto& [name, text] : aux.items()) {
        if (!text.is_string())
          throw InvalidArgument("auxiliary address " + name + " must be a string");
        Ipv4 a = Ipv4::parse(text.get<std::string>(), "auxiliary address");
        if (!n.subnet.contains(a))
          throw Forbidden("auxiliary address: (" + name + ":" + a.str() +
                          ") must belong to the master pool: " + n.subnet.str());
        n.aux_addresses[name] = a;
      }
    } else {
      throw InvalidArgument("AuxiliaryAddresses must be an object of names and addresses");
    }
  } else if (v4.is_object() &&
             (!v4.value("Gateway", "").empty() || !v4.value("IPRange", "").empty() ||
              !v4.value("AuxiliaryAddresses", json::object()).empty())) {
    throw InvalidArgument("a gateway, ip-range or aux-address needs a subnet (--subnet)");
  }
  return out;
}

}  // namespace berth::network
