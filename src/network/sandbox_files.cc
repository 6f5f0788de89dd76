#include "network/sandbox_files.h"

#include <sstream>

namespace berth::network {
namespace {

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

bool is_loopback(const std::string& ip) {
  return ip.rfind("127.", 0) == 0 || ip == "::1";
}

}  // namespace

std::string hosts_file(const std::vector<HostsEntry>& extra, const std::string& own_ip,
                       const std::string& hostname, const std::string& domainname) {
  std::string out =
      "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
      "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
      "ff02::2\tip6-allrouters\n";
  for (const auto& e : extra) {
    out += e.ip;
    for (size_t i = 0; i < e.names.size(); i++) out += (i == 0 ? "\t" : " ") + e.names[i];
    out += "\n";
  }
  if (!own_ip.empty() && !hostname.empty()) {
    out += own_ip + "\t";
    if (!domainname.empty()) out += hostname + "." + domainname + " ";
    out += hostname + "\n";
  }
  return out;
}

std::string resolv_conf(const ResolvConfInput& in) {
  std::vector<std::string> host_servers, host_search, host_options;
  std::istringstream text(in.host_resolv_conf);
  for (std::string line; std::getline(text, line);) {
    auto f = fields(line);
    if (f.empty() || f[0][0] == '#' || f[0][0] == ';') continue;
    if (f[0] == "nameserver" && f.size() > 1) host_servers.push_back(f[1]);
    if ((f[0] == "search" || f[0] == "domain") && f.size() > 1)
      host_search.assign(f.begin() + 1, f.end());
    if (f[0] == "options" && f.size() > 1) host_options.assign(f.begin() + 1, f.end());
  }
  std::vector<std::string> servers;
  if (!in.embedded_dns.empty()) {
    servers = {in.embedded_dns};
  } else if (!in.dns.empty()) {
    servers = in.dns;
  } else {
    for (auto& s : host_servers)
      if (!is_loopback(s)) servers.push_back(s);
  }
  const auto& search = in.search.empty() ? host_search : in.search;
  auto options = in.options.empty() ? host_options : in.options;
  // The embedded server answers short names itself: no search-list walk first, as Docker.
  if (!in.embedded_dns.empty() && in.options.empty()) {
    bool has_ndots = false;
    for (auto& o : options) has_ndots |= o.rfind("ndots:", 0) == 0;
    if (!has_ndots) options.push_back("ndots:0");
  }
  std::string out;
  for (auto& s : servers) out += "nameserver " + s + "\n";
  if (!search.empty()) {
    out += "search";
    for (auto& s : search) out += " " + s;
    out += "\n";
  }
  if (!options.empty()) {
    out += "options";
    for (auto& o : options) out += " " + o;
    out += "\n";
  }
  return out;
}

}  // namespace berth::network
