// GET /events: the history since `since`, then every event as it happens, filtered.
#include <nlohmann/json.hpp>

#include "api/filters.h"
#include "api/routes.h"
#include "base/error.h"
#include "base/time.h"

namespace berth::api {
namespace {

using nlohmann::json;

json event_json(const engine::Event& e, const std::string& api_version) {
  json j = {{"Type", e.type},
            {"Action", e.action},
            {"Actor", {{"ID", e.id}, {"Attributes", e.attributes}}},
            {"scope", "local"},
            {"time", e.time_nano / 1000000000},
            {"timeNano", e.time_nano}};
  // The legacy fields went away in API 1.52.
  if (compare_api_versions(api_version, "1.52") < 0) {
    j["status"] = e.action;
    j["id"] = e.id;
    if (auto it = e.attributes.find("image"); it != e.attributes.end()) j["from"] = it->second;
  }
  return j;
}

bool matches(const Filters& f, const engine::Event& e) {
  if (!f.match("type", e.type)) return false;
  if (f.has("event")) {
    // As dockerd: health_status, exec_create and exec_start also match the actions that
    // carry a detail after a colon ("health_status: healthy").
    bool hit = false;
    for (auto& want : f.get("event")) {
      bool prefixed = want == "health_status" || want == "exec_create" || want == "exec_start";
      hit |= want == e.action || (prefixed && e.action.rfind(want + ":", 0) == 0);
    }
    if (!hit) return false;
  }
  auto attr = [&](const char* key) {
    auto it = e.attributes.find(key);
    return it == e.attributes.end() ? std::string() : it->second;
  };
  // As dockerd: each object filter given must hold for every event, whatever its type; ids
  // and names match by prefix.
  auto fuzzy = [&](const char* key, const std::vector<std::string>& sources) {
    if (!f.has(key)) return true;
    for (auto& want : f.get(key))
      for (auto& source : sources)
        if (!want.empty() && !source.empty() && source.rfind(want, 0) == 0) return true;
    return false;
  };
  for (const char* key : {"container", "volume", "network", "daemon", "plugin", "node", "service",
                          "secret", "config"})
    if (!fuzzy(key, {e.id, attr("name")})) return false;
  // An image by id or name: an image event's own, another event's `image` attribute.
  if (f.has("image")) {
    std::string name = attr(e.type == "image" ? "name" : "image");
    bool hit = false;
    for (auto& want : f.get("image"))
      hit |= want == e.id || want == name || (!name.empty() && name == want + ":latest");
    if (!hit) return false;
  }
  return f.match_labels("label", e.attributes);
}

}  // namespace

void add_event_routes(Router& router, engine::Engine& s) {
  router.add("GET", "/events", [&s](const Request& req) {
    auto f = Filters::parse(req.q("filters"),
                            {"type", "event", "image", "container", "network", "volume", "daemon",
                             "label", "scope", "plugin", "node", "service", "secret", "config"});
    auto time_arg = [&](const char* name) -> int64_t {
      std::string v = req.q(name);
      if (v.empty()) return 0;
      auto t = parse_api_time(v);
      if (!t) throw InvalidArgument(std::string("invalid value for ") + name + ": " + v);
      return *t;
    };
    int64_t since = time_arg("since"), until = time_arg("until");
    // Without --since, only what happens from now on is sent.
    if (!req.query.count("since")) since = engine::now_nano();
    std::string version = req.api_version;
    Response r;
    r.stream = [&s, f, since, until, version](const ChunkWriter& write) {
      // Headers first: `docker events` waits for them before it prints anything.
      if (!write("")) return;
      s.events().follow(
          since, until,
          [&](const engine::Event& e) {
            if (!matches(f, e)) return true;
            return write(event_json(e, version).dump() + "\n");
          },
          [&] { return write(""); });
    };
    return r;
  });
}

}  // namespace berth::api
