#include "cli/volume_list.h"

#include <algorithm>
#include <vector>

#include "cli/formatter.h"
#include "cli/port_spec.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

namespace {

const char* const kDefaultFormat = "table {{.Driver}}\t{{.Name}}";

json volume_headers() {
  return {{"Name", "VOLUME NAME"},
          {"Group", "GROUP"},
          {"Driver", "DRIVER"},
          {"Scope", "SCOPE"},
          {"Availability", "AVAILABILITY"},
          {"Mountpoint", "MOUNTPOINT"},
          {"Labels", "LABELS"},
          {"Links", "LINKS"},
          {"Size", "SIZE"},
          {"Status", "STATUS"}};
}

std::string str(const json& v, const char* key) {
  auto it = v.find(key);
  return it != v.end() && it->is_string() ? it->get<std::string>() : "";
}

json string_map(const json& v, const char* key) {
  auto it = v.find(key);
  if (it == v.end() || !it->is_object()) return json::object();
  json out = json::object();
  for (auto& [k, val] : it->items()) out[k] = val.is_string() ? val.get<std::string>() : "";
  return out;
}

// Cluster volumes need a swarm; local ones show docker's placeholders for these columns.
std::string cluster_status(const json& v) {
  auto it = v.find("ClusterVolume");
  if (it == v.end() || !it->is_object()) return "N/A";
  const json& info = it->value("Info", json::object());
  if (!info.is_object() || info.value("VolumeID", std::string()).empty()) return "pending creation";
  size_t nodes = it->value("PublishStatus", json::array()).size();
  if (nodes == 0) return "created";
  return nodes == 1 ? "in use (1 node)" : "in use (" + std::to_string(nodes) + " nodes)";
}

std::string cluster_spec(const json& v, const char* key) {
  auto it = v.find("ClusterVolume");
  if (it == v.end() || !it->is_object()) return "N/A";
  return str(it->value("Spec", json::object()), key);
}

// The fields of docker's volumeContext for one volume.
json volume_row(const json& v) {
  json labels = string_map(v, "Labels");
  std::string joined;
  for (auto& [k, val] : labels.items())
    joined += (joined.empty() ? "" : ",") + k + "=" + val.get<std::string>();
  auto usage = v.find("UsageData");
  bool has_usage = usage != v.end() && usage->is_object();
  return {{"Name", str(v, "Name")},
          {"Driver", str(v, "Driver")},
          {"Scope", str(v, "Scope")},
          {"Mountpoint", str(v, "Mountpoint")},
          {"Labels", joined},
          {"Label", labels},
          {"Links", has_usage ? std::to_string(usage->value("RefCount", int64_t{0})) : "N/A"},
          {"Size",
           has_usage ? human_size(static_cast<double>(usage->value("Size", int64_t{0}))) : "N/A"},
          {"Group", cluster_spec(v, "Group")},
          {"Availability", cluster_spec(v, "Availability")},
          {"Status", cluster_status(v)}};
}

}  // namespace

std::string render_volumes(const json& answer, const VolumeListOptions& o) {
  std::vector<json> list;
  if (answer.is_object() && answer.contains("Volumes") && answer["Volumes"].is_array())
    list.assign(answer["Volumes"].begin(), answer["Volumes"].end());
  std::stable_sort(list.begin(), list.end(), [](const json& a, const json& b) {
    return natural_less(str(a, "Name"), str(b, "Name"));
  });
  std::vector<json> rows;
  for (const auto& v : list) {
    rows.push_back(volume_row(v));
    // Label is a method in docker's context, so its JSON rendering has no such field.
    if (o.format == "json") rows.back().erase("Label");
  }
  std::string format = o.format;
  if (format.empty() || format == "table") {
    format = o.quiet ? "{{.Name}}" : kDefaultFormat;
  } else if (format == "raw") {
    format = o.quiet ? "name: {{.Name}}" : "name: {{.Name}}\\ndriver: {{.Driver}}\\n";
  }
  return render_list({format, kDefaultFormat, volume_headers()}, rows);
}

json volume_inspect_view(const json& volume) {
  json out = json::object();
  auto copy_if_set = [&](const char* key) {
    auto it = volume.find(key);
    if (it != volume.end() && !it->is_null() &&
        !(it->is_string() && it->get<std::string>().empty()))
      out[key] = *it;
  };
  copy_if_set("ClusterVolume");
  copy_if_set("CreatedAt");
  for (const char* key : {"Driver", "Mountpoint", "Name", "Scope"}) out[key] = str(volume, key);
  for (const char* key : {"Labels", "Options"}) {
    auto it = volume.find(key);
    out[key] = it != volume.end() && it->is_object() ? string_map(volume, key) : json(nullptr);
  }
  if (auto it = volume.find("Status"); it != volume.end() && it->is_object() && !it->empty())
    out["Status"] = *it;
  if (auto it = volume.find("UsageData"); it != volume.end() && it->is_object())
    out["UsageData"] = {{"RefCount", it->value("RefCount", int64_t{0})},
                        {"Size", it->value("Size", int64_t{0})}};
  return out;
}

}  // namespace berth::cli
