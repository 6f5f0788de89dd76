#include "cli/network_list.h"

#include <algorithm>
#include <vector>

#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/port_spec.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

namespace {

const char* const kDefaultFormat = "table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}";

json network_headers() {
  return {{"ID", "NETWORK ID"},       {"Name", "NAME"},     {"Driver", "DRIVER"},
          {"Scope", "SCOPE"},         {"IPv4", "IPV4"},     {"IPv6", "IPV6"},
          {"Internal", "INTERNAL"},   {"Labels", "LABELS"}, {"Label", "LABEL"},
          {"CreatedAt", "CREATED AT"}};
}

std::string str(const json& n, const char* key) {
  auto it = n.find(key);
  return it != n.end() && it->is_string() ? it->get<std::string>() : "";
}

std::string boolean(const json& n, const char* key) {
  auto it = n.find(key);
  return it != n.end() && it->is_boolean() && it->get<bool>() ? "true" : "false";
}

// The fields of docker's networkContext for one network.
json network_row(const json& n, bool trunc) {
  json labels = n.value("Labels", json::object());
  if (!labels.is_object()) labels = json::object();
  std::string joined;
  for (auto& [k, v] : labels.items())
    joined += (joined.empty() ? "" : ",") + k + "=" + (v.is_string() ? v.get<std::string>() : "");
  std::string id = str(n, "Id");
  return {{"ID", trunc ? truncate_id(id) : id},
          {"Name", str(n, "Name")},
          {"Driver", str(n, "Driver")},
          {"Scope", str(n, "Scope")},
          {"IPv4", boolean(n, "EnableIPv4")},
          {"IPv6", boolean(n, "EnableIPv6")},
          {"Internal", boolean(n, "Internal")},
          {"Labels", joined},
          {"Label", labels},
          {"CreatedAt", go_time_of_rfc3339(str(n, "Created"))}};
}

}  // namespace

std::string go_time_of_rfc3339(const std::string& ts) {
  // "2006-01-02T15:04:05.999999999Z07:00" -> "2006-01-02 15:04:05.999999999 -0700 MST"
  if (ts.size() < 20 || ts[10] != 'T') return ts;
  std::string out = ts.substr(0, 10) + " " + ts.substr(11, 8);
  size_t i = 19;
  std::string frac;
  if (ts[i] == '.') {
    size_t end = ts.find_first_not_of("0123456789", i + 1);
    if (end == std::string::npos) return ts;
    frac = ts.substr(i + 1, end - i - 1);
    i = end;
  }
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  if (!frac.empty()) out += "." + frac;
  std::string zone = ts.substr(i);
  if (zone == "Z") return out + " +0000 UTC";
  if (zone.size() != 6 || zone[3] != ':') return ts;
  std::string offset = zone.substr(0, 3) + zone.substr(4);
  return out + " " + offset + " " + offset;
}

std::string render_networks(const json& networks, const NetworkListOptions& o) {
  std::vector<json> list;
  if (networks.is_array()) list.assign(networks.begin(), networks.end());
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return natural_less(str(a, "Name"), str(b, "Name"));
  });
  std::vector<json> rows;
  for (const auto& n : list) {
    rows.push_back(network_row(n, !o.no_trunc));
    // Label is a method in docker's context, so its JSON rendering has no such field.
    if (o.format == "json") rows.back().erase("Label");
  }
  std::string format = o.format;
  if (o.quiet && (format.empty() || format == "table")) format = "{{.ID}}";
  return render_list({format, kDefaultFormat, network_headers()}, rows);
}

}  // namespace berth::cli
