#include "cli/container_format.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <tuple>

#include "base/time.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

// Nanoseconds of an RFC 3339 time, or nullopt for Go's zero time and unparsable values.
std::optional<int64_t> time_of(const json& state, const char* key) {
  std::string s = state.value(key, std::string());
  if (s.empty() || s.rfind("0001-01-01", 0) == 0) return std::nullopt;
  return parse_rfc3339(s);
}

std::string since(std::optional<int64_t> t, int64_t now) {
  return human_duration(now - t.value_or(now));
}

}  // namespace

std::string container_status(const json& state, int64_t now) {
  auto started = time_of(state, "StartedAt");
  auto finished = time_of(state, "FinishedAt");
  std::string exit_code = std::to_string(state.value("ExitCode", 0));
  if (state.value("Running", false)) {
    if (state.value("Paused", false)) return "Up " + since(started, now) + " (Paused)";
    if (state.value("Restarting", false))
      return "Restarting (" + exit_code + ") " + since(finished, now) + " ago";
    if (auto h = state.find("Health"); h != state.end() && h->is_object()) {
      std::string hs = h->value("Status", std::string());
      if (hs == "starting") hs = "health: starting";
      if (!hs.empty() && hs != "none") return "Up " + since(started, now) + " (" + hs + ")";
    }
    return "Up " + since(started, now);
  }
  if (state.value("Status", std::string()) == "removing") return "Removal In Progress";
  if (state.value("Dead", false)) return "Dead";
  if (!started) return "Created";
  if (!finished) return "";
  return "Exited (" + exit_code + ") " + since(finished, now) + " ago";
}

std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string display_ports(const json& ports) {
  if (!ports.is_array()) return "";
  // (ip, type, private, public); public 0 means not published.
  std::vector<std::tuple<std::string, std::string, int, int>> list;
  for (const auto& p : ports)
    list.emplace_back(p.value("IP", std::string()), p.value("Type", std::string("tcp")),
                      p.value("PrivatePort", 0), p.value("PublicPort", 0));
  std::sort(list.begin(), list.end());
  std::vector<std::string> out;
  auto range = [](int lo, int hi) {
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
  };
  for (size_t i = 0; i < list.size();) {
    auto [ip, type, priv, pub] = list[i];
    size_t j = i + 1;
    // Extend while both sides continue one by one, as docker prints ranges.
    while (j < list.size() && std::get<0>(list[j]) == ip && std::get<1>(list[j]) == type &&
           std::get<2>(list[j]) == priv + static_cast<int>(j - i) &&
           (pub == 0 ? std::get<3>(list[j]) == 0
                     : std::get<3>(list[j]) == pub + static_cast<int>(j - i)))
      ++j;
    int last = static_cast<int>(j - i) - 1;
    std::string privs = range(priv, priv + last) + "/" + type;
    if (pub == 0) {
      out.push_back(privs);
    } else {
      std::string host = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
      out.push_back(host + ":" + range(pub, pub + last) + "->" + privs);
    }
    i = j;
  }
  std::string s;
  for (const auto& o : out) s += (s.empty() ? "" : ", ") + o;
  return s;
}

namespace {

std::string image_column(const json& c, bool trunc) {
  std::string image = c.value("Image", std::string());
  if (image.empty()) return "<no image>";
  if (!trunc) return image;
  std::string image_id = c.value("ImageID", std::string());
  if (!image_id.empty() && truncate_id(image_id) == truncate_id(image)) return truncate_id(image);
  // A reference with a digest shows without it when truncating.
  try {
    oci::Reference ref = oci::parse_reference(image);
    std::string name = ref.familiar_name();
    return ref.tag.empty() ? name : name + ":" + ref.tag;
  } catch (const std::exception&) {
    return image;
  }
}

}  // namespace

json ps_row(const json& c, bool trunc) {
  std::string id = c.value("Id", std::string());
  std::vector<std::string> names;
  for (const auto& n : c.value("Names", json::array())) {
    std::string s = n.get<std::string>();
    names.push_back(s.empty() || s[0] != '/' ? s : s.substr(1));
  }
  if (trunc)
    for (const auto& n : names)
      if (n.find('/') == std::string::npos) {
        names = {n};
        break;
      }
  std::string command = c.value("Command", std::string());
  int64_t created = c.value("Created", int64_t{0});
  json labels = c.value("Labels", json::object());
  if (!labels.is_object()) labels = json::object();
  std::vector<std::string> label_list;
  for (auto& [k, v] : labels.items()) label_list.push_back(k + "=" + v.get<std::string>());
  std::string size = human_size(static_cast<double>(c.value("SizeRw", int64_t{0})), 3);
  if (int64_t root = c.value("SizeRootFs", int64_t{0}); root > 0)
    size += " (virtual " + human_size(static_cast<double>(root), 3) + ")";
  std::vector<std::string> mounts, networks;
  int local_volumes = 0;
  for (const auto& m : c.value("Mounts", json::array())) {
    std::string name = m.value("Name", std::string());
    if (name.empty()) name = m.value("Source", std::string());
    mounts.push_back(trunc ? ellipsis(name, 15) : name);
    if (m.value("Driver", std::string()) == "local") ++local_volumes;
  }
  if (auto ns = c.find("NetworkSettings"); ns != c.end() && ns->is_object())
    if (auto nets = ns->find("Networks"); nets != ns->end() && nets->is_object())
      for (auto& [k, v] : nets->items()) networks.push_back(k);
  std::sort(networks.begin(), networks.end());
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& e : v) s += (s.empty() ? "" : ",") + e;
    return s;
  };
  std::string status = c.value("Status", std::string());
  return {{"ID", trunc ? truncate_id(id) : id},
          {"Image", image_column(c, trunc)},
          {"Command", go_quote(trunc ? ellipsis(command, 20) : command)},
          {"CreatedAt", go_time_string(created)},
          {"RunningFor", time_ago(created)},
          {"Ports", display_ports(c.value("Ports", json::array()))},
          {"State", c.value("State", std::string())},
          {"Status", status},
          {"Size", size},
          {"Names", join(names)},
          {"Labels", join(label_list)},
          {"Label", labels},
          {"Mounts", join(mounts)},
          {"LocalVolumes", std::to_string(local_volumes)},
          {"Networks", join(networks)}};
}

json ps_headers() {
  return {{"ID", "CONTAINER ID"},    {"Image", "IMAGE"},
          {"Command", "COMMAND"},    {"CreatedAt", "CREATED AT"},
          {"RunningFor", "CREATED"}, {"Ports", "PORTS"},
          {"State", "STATE"},        {"Status", "STATUS"},
          {"Size", "SIZE"},          {"Names", "NAMES"},
          {"Labels", "LABELS"},      {"Label", "LABEL"},
          {"Mounts", "MOUNTS"},      {"LocalVolumes", "LOCAL VOLUMES"},
          {"Networks", "NETWORKS"}};
}

}  // namespace berth::cli
