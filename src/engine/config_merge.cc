#include "engine/config_merge.h"

#include <algorithm>
#include <string>
#include <vector>

namespace berth::engine {

using nlohmann::json;

std::vector<std::string> strings(const json& j) {
  std::vector<std::string> out;
  if (j.is_array())
    for (auto& v : j) out.push_back(v.get<std::string>());
  else if (j.is_string())
    out.push_back(j.get<std::string>());
  return out;
}

void merge_image_config(json& cfg, const json& img) {
  if (!img.is_object()) return;
  // Env: the image's, then the container's, by key.
  std::vector<std::string> env = strings(img.value("Env", json::array()));
  for (auto& e : strings(cfg.value("Env", json::array()))) {
    auto key = e.substr(0, e.find('='));
    auto it = std::find_if(env.begin(), env.end(),
                           [&](const std::string& x) { return x.substr(0, x.find('=')) == key; });
    if (it != env.end())
      *it = e;
    else
      env.push_back(e);
  }
  cfg["Env"] = env;
  bool own_entrypoint = cfg.contains("Entrypoint") && !cfg["Entrypoint"].is_null();
  bool own_cmd = cfg.contains("Cmd") && !cfg["Cmd"].is_null() && !strings(cfg["Cmd"]).empty();
  // A new entrypoint drops the image's Cmd, as with Docker.
  if (!own_entrypoint) {
    cfg["Entrypoint"] = img.value("Entrypoint", json(nullptr));
    if (!own_cmd) cfg["Cmd"] = img.value("Cmd", json(nullptr));
  }
  for (const char* key : {"WorkingDir", "User", "StopSignal", "Shell"})
    if (cfg.value(key, "").empty() && img.contains(key) && img[key].is_string())
      cfg[key] = img[key];
  for (const char* key : {"ExposedPorts", "Volumes", "Labels"}) {
    if (!img.contains(key) || !img[key].is_object()) continue;
    json merged = img[key];
    if (cfg.contains(key) && cfg[key].is_object()) merged.update(cfg[key]);
    cfg[key] = merged;
  }
  // As dockerd merges them: what the container leaves at zero (--health-interval alone keeps
  // the image's command) comes from the image's HEALTHCHECK.
  if (img.contains("Healthcheck") && img["Healthcheck"].is_object()) {
    if (!cfg.contains("Healthcheck") || !cfg["Healthcheck"].is_object()) {
      cfg["Healthcheck"] = img["Healthcheck"];
    } else {
      json& own = cfg["Healthcheck"];
      for (auto& [key, value] : img["Healthcheck"].items()) {
        auto it = own.find(key);
        bool unset = it == own.end() || it->is_null() || (it->is_array() && it->empty()) ||
                     (it->is_number() && it->get<int64_t>() == 0);
        if (unset) own[key] = value;
      }
    }
  }
}

}  // namespace berth::engine
