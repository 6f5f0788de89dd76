#include "engine/links.h"

#include <fcntl.h>

#include <algorithm>
#include <cctype>
#include <optional>
#include <tuple>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"

namespace berth::engine {

using nlohmann::json;

Link parse_link(const std::string& link) {
  auto sep = link.find(':');
  if (link.empty() || (sep != std::string::npos && link.find(':', sep + 1) != std::string::npos))
    throw InvalidArgument("bad format for links: " + link);
  Link l;
  l.target = link.substr(0, sep);
  l.alias = sep == std::string::npos ? l.target : link.substr(sep + 1);
  // A recorded link ("/target:/me/alias") names the target from the root and the alias
  // under the linking container.
  if (!l.target.empty() && l.target[0] == '/') l.target.erase(0, 1);
  if (auto slash = l.alias.rfind('/'); slash != std::string::npos) l.alias.erase(0, slash + 1);
  if (l.target.empty() || l.alias.empty()) throw InvalidArgument("bad format for links: " + link);
  return l;
}

namespace {

std::vector<std::string> record_links(
    const std::vector<std::string>& links, const std::string& me,
    const std::function<std::string(const std::string&)>& resolve) {
  std::vector<std::string> out;
  for (auto& s : links) {
    Link l = parse_link(s);
    std::string target;
    try {
      target = resolve(l.target);
    } catch (const NotFound& e) {
      // dockerd's words, and a 400: the docker CLI takes a 404 from create for a missing
      // image and would pull.
      throw InvalidArgument("could not get container for " + l.target + ": " + e.what());
    }
    std::string recorded = "/" + target + ":/" + me + "/" + l.alias;
    if (std::find(out.begin(), out.end(), recorded) == out.end()) out.push_back(recorded);
  }
  return out;
}

struct Port {
  int number = 0;
  std::string proto;
};

std::string upper(std::string s) {
  for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  return s;
}

std::vector<Port> exposed(const json& ports) {
  std::vector<Port> out;
  if (!ports.is_object()) return out;
  for (auto& [key, unused] : ports.items()) {
    auto slash = key.find('/');
    Port p;
    p.proto = slash == std::string::npos ? "tcp" : key.substr(slash + 1);
    try {
      p.number = std::stoi(key.substr(0, slash));
    } catch (const std::exception&) {
      continue;  // validated at create; a record from elsewhere is not worth failing a start
    }
    out.push_back(p);
  }
  // By number, tcp before the other protocols on the same number: the first is the link's
  // default port.
  std::sort(out.begin(), out.end(), [](const Port& a, const Port& b) {
    return std::tuple(a.number, a.proto != "tcp", a.proto) <
           std::tuple(b.number, b.proto != "tcp", b.proto);
  });
  return out;
}

}  // namespace

std::vector<std::string> link_env(const std::string& me, const std::string& alias,
                                  const std::string& ip, const json& exposed_ports,
                                  const json& target_env) {
  std::string prefix = upper(alias);
  std::replace(prefix.begin(), prefix.end(), '-', '_');
  std::vector<std::string> env;
  auto ports = exposed(exposed_ports);
  auto url = [&](const Port& p) { return p.proto + "://" + ip + ":" + std::to_string(p.number); };
  auto key = [&](const Port& p) {
    return prefix + "_PORT_" + std::to_string(p.number) + "_" + upper(p.proto);
  };
  if (!ports.empty()) env.push_back(prefix + "_PORT=" + url(ports.front()));
  for (auto& p : ports) {
    env.push_back(key(p) + "=" + url(p));
    env.push_back(key(p) + "_ADDR=" + ip);
    env.push_back(key(p) + "_PORT=" + std::to_string(p.number));
    env.push_back(key(p) + "_PROTO=" + p.proto);
  }
  // Three or more consecutive numbers (whatever their protocols, as dockerd) are also given
  // as a range under the first: its protocol for the start, the last one's for the end.
  for (size_t i = 0; i < ports.size();) {
    size_t j = i;
    while (j + 1 < ports.size() && ports[j + 1].number == ports[j].number + 1) j++;
    if (j >= i + 2) {
      const Port &first = ports[i], &last = ports[j];
      std::string end_key =
          prefix + "_PORT_" + std::to_string(first.number) + "_" + upper(last.proto);
      env.push_back(key(first) + "_START=" + url(first));
      env.push_back(key(first) + "_PORT_START=" + std::to_string(first.number));
      env.push_back(end_key + "_END=" + url(last));
      env.push_back(end_key + "_PORT_END=" + std::to_string(last.number));
    }
    i = j + 1;
  }
  env.push_back(prefix + "_NAME=/" + me + "/" + alias);
  if (target_env.is_array())
    for (auto& v : target_env) {
      if (!v.is_string()) continue;
      const std::string& s = v.get_ref<const std::string&>();
      auto eq = s.find('=');
      if (eq == std::string::npos) continue;
      std::string name = s.substr(0, eq);
      // Set by builds and the image, not the target's own: dockerd leaves them out.
      if (name == "HOME" || name == "PATH") continue;
      env.push_back(prefix + "_ENV_" + s);
    }
  return env;
}

namespace {

std::vector<std::string> strings_of(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& v : j)
      if (v.is_string()) out.push_back(v);
  return out;
}

bool on_default_bridge(const json& host_config) {
  std::string mode = host_config.value("NetworkMode", "");
  return mode.empty() || mode == "default" || mode == "bridge";
}

}  // namespace

void record_container_links(json& host_config, json& networking, const std::string& me,
                            const std::function<std::string(const std::string&)>& resolve) {
  auto links = strings_of(host_config.value("Links", json(nullptr)));
  if (links.empty()) return;
  std::string mode = host_config.value("NetworkMode", "");
  if (mode == "host")
    throw InvalidArgument(
        "conflicting options: host type networking can't be used with links. This would "
        "result in undefined behavior");
  if (mode.rfind("container:", 0) == 0)
    throw InvalidArgument(
        "conflicting options: container type network can't be used with links. This would "
        "result in undefined behavior");
  // On "none" they are recorded and have no effect, as with dockerd.
  if (on_default_bridge(host_config) || mode == "none") {
    host_config["Links"] = record_links(links, me, resolve);
    return;
  }
  // Legacy links are a default-bridge feature; elsewhere they name the endpoint's aliases of
  // other containers, and nothing checks that those exist (dockerd neither).
  for (auto& l : links) parse_link(l);
  if (!networking.is_object()) networking = json::object();
  auto& eps = networking["EndpointsConfig"];
  if (!eps.is_object()) eps = json::object();
  auto& ep = eps[mode];
  if (!ep.is_object()) ep = json::object();
  if (strings_of(ep.value("Links", json(nullptr))).empty()) ep["Links"] = links;
  host_config["Links"] = nullptr;
}

std::optional<Container> with_links_env(const Container& c, const ContainerStore& store,
                                        const network::NetworkManager& networks) {
  if (!on_default_bridge(c.host_config)) return std::nullopt;
  auto links = strings_of(c.host_config.value("Links", json(nullptr)));
  if (links.empty()) return std::nullopt;
  std::vector<std::string> env;
  std::string bridge = networks.get("bridge").id;
  for (auto& s : links) {
    Link l = parse_link(s);
    auto target = store.find(l.target);
    if (!target) continue;
    for (auto& e : networks.endpoints_of(target->id))
      if (e.network_id == bridge && e.ip) {
        auto vars = link_env(c.name, l.alias, e.ip->str(),
                             target->config.value("ExposedPorts", json(nullptr)),
                             target->config.value("Env", json(nullptr)));
        env.insert(env.end(), vars.begin(), vars.end());
      }
  }
  // The container's own variables win over its links' (a link's are set only once too).
  Container out = c;
  json& own = out.config["Env"];
  if (!own.is_array()) own = json::array();
  for (auto& v : env) {
    std::string name = v.substr(0, v.find('=') + 1);
    bool set = std::any_of(own.begin(), own.end(), [&](const json& e) {
      return e.is_string() && e.get_ref<const std::string&>().rfind(name, 0) == 0;
    });
    if (!set) own.push_back(v);
  }
  return out;
}

bool rename_in_links(json& host_config, const std::string& me, const std::string& old_name,
                     const std::string& new_name) {
  auto links = strings_of(host_config.value("Links", json(nullptr)));
  if (links.empty() || !on_default_bridge(host_config)) return false;
  std::vector<std::string> renamed;
  for (auto& s : links) {
    Link l = parse_link(s);
    if (l.target == old_name) l.target = new_name;
    renamed.push_back("/" + l.target + ":/" + me + "/" + l.alias);
  }
  if (renamed == links) return false;
  host_config["Links"] = renamed;
  return true;
}

std::string with_link_address(const std::string& hosts, const std::string& alias,
                              const std::string& ip) {
  std::string out;
  size_t pos = 0;
  while (pos < hosts.size()) {
    size_t end = hosts.find('\n', pos);
    if (end == std::string::npos) end = hosts.size();
    std::string line = hosts.substr(pos, end - pos);
    auto tab = line.find('\t');
    if (tab != std::string::npos) {
      auto names = line.substr(tab + 1);
      if (names.substr(0, names.find(' ')) == alias) line = ip + "\t" + names;
    }
    out += line;
    if (end < hosts.size()) out += '\n';
    pos = end + 1;
  }
  return out;
}

void refresh_linkers_hosts(const Container& target, const ContainerStore& store,
                           const network::NetworkManager& networks,
                           const std::function<std::string(const std::string&)>& hosts_path) {
  if (!on_default_bridge(target.host_config)) return;
  std::string bridge = networks.get("bridge").id;
  std::string ip;
  for (auto& e : networks.endpoints_of(target.id))
    if (e.network_id == bridge && e.ip) ip = e.ip->str();
  if (ip.empty()) return;
  for (auto& c : store.list()) {
    if (!c.running() || c.id == target.id || !on_default_bridge(c.host_config)) continue;
    for (auto& s : strings_of(c.host_config.value("Links", json(nullptr)))) {
      Link l = parse_link(s);
      if (l.target != target.name) continue;
      // In place: the file is bind-mounted into the running container.
      std::string path = hosts_path(c.id);
      try {
        write_file(path, with_link_address(read_file(path), l.alias, ip), O_TRUNC);
      } catch (const std::exception& e) {
        log::warn("links: the hosts file of " + c.id + ": " + e.what());
      }
    }
  }
}

}  // namespace berth::engine
