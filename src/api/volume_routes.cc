// /volumes: list, inspect, create, remove, prune; and the volumes of /system/df.
#include "api/field_names.h"
#include "api/filters.h"
#include "api/routes.h"
#include "base/error.h"

namespace berth::api {

using nlohmann::json;

namespace {

json string_map_or_null(const std::map<std::string, std::string>& m) {
  return m.empty() ? json(nullptr) : json(m);
}

// A JSON object of strings from a create body, with Docker's words for anything else.
std::map<std::string, std::string> strings_of(const json& body, const char* key) {
  std::map<std::string, std::string> out;
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_object())
    throw InvalidArgument(std::string("json: cannot unmarshal ") + it->type_name() +
                          " into Go struct field CreateOptions." + key +
                          " of type map[string]string");
  for (auto& [k, v] : it->items()) {
    if (!v.is_string())
      throw InvalidArgument(std::string("json: cannot unmarshal ") + v.type_name() +
                            " into Go struct field CreateOptions." + key + " of type string");
    out[k] = v.get<std::string>();
  }
  return out;
}

std::string string_of(const json& body, const char* key) {
  auto it = body.find(key);
  if (it == body.end() || it->is_null()) return "";
  if (!it->is_string())
    throw InvalidArgument(std::string("json: cannot unmarshal ") + it->type_name() +
                          " into Go struct field CreateOptions." + key + " of type string");
  return it->get<std::string>();
}

Response list(engine::Engine& s, const Request& req) {
  // The volume service words its filter errors its own way: capitalised, values as a list.
  auto f = [&] {
    try {
      return Filters::parse(req.q("filters"), {"dangling", "driver", "label", "label!", "name"});
    } catch (const InvalidArgument& e) {
      std::string what = e.what();
      if (what.rfind("invalid filter", 0) == 0) what[0] = 'I';
      throw InvalidArgument(what);
    }
  }();
  std::optional<bool> dangling;
  if (f.has("dangling")) {
    const std::string& v = f.get("dangling").back();
    if (v != "true" && v != "1" && v != "false" && v != "0")
      throw InvalidArgument("Invalid filter 'dangling=[" + v + "]'");
    dangling = v == "true" || v == "1";
  }
  json out = json::array();
  for (auto& v : s.volumes().list()) {
    if (!f.match("driver", v.driver)) continue;
    if (f.has("name")) {
      bool hit = false;
      for (auto& want : f.get("name")) hit |= v.name.find(want) != std::string::npos;
      if (!hit) continue;
    }
    if (!f.match_labels("label", v.labels) || !f.match_no_labels("label!", v.labels)) continue;
    if (dangling && *dangling != s.volumes().users(v.name).empty()) continue;
    out.push_back(volume_json(v));
  }
  return json_response(json{{"Volumes", out}, {"Warnings", nullptr}}.dump());
}

Response create(engine::Engine& s, const Request& req) {
  json body = req.body.empty() ? json::object() : json::parse(req.body);
  if (!body.is_object()) throw InvalidArgument("volume create: expected a JSON object");
  canonical_keys(body, {"Name", "Driver", "DriverOpts", "Labels", "ClusterVolumeSpec"});
  volume::CreateOptions opts;
  opts.name = string_of(body, "Name");
  if (auto d = string_of(body, "Driver"); !d.empty()) opts.driver = d;
  opts.options = strings_of(body, "DriverOpts");
  opts.labels = strings_of(body, "Labels");
  // API 1.42+: a volume created without a name is anonymous, and `volume prune` takes it.
  if (opts.name.empty()) opts.labels[volume::kAnonymousLabel] = "";
  if (body.contains("ClusterVolumeSpec") && !body["ClusterVolumeSpec"].is_null())
    throw InvalidArgument("cluster volumes need swarm mode, which this berthd does not have");
  return json_response(volume_json(s.volumes().create(opts)).dump(), 201);
}

Response prune(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"), {"label", "label!", "all"});
  bool all = f.boolean("all").value_or(false);
  auto result = s.volumes().prune(all, [&](const volume::Volume& v) {
    return f.match_labels("label", v.labels) && f.match_no_labels("label!", v.labels);
  });
  s.events().publish({"volume", "prune", "", {{"reclaimed", std::to_string(result.reclaimed)}}, 0});
  return json_response(json{
      {"VolumesDeleted", result.deleted.empty() ? json(nullptr) : json(result.deleted)},
      {"SpaceReclaimed",
       result.reclaimed}}.dump());
}

}  // namespace

json volume_json(const volume::Volume& v) {
  return {{"CreatedAt", v.created_at},
          {"Driver", v.driver},
          {"Labels", string_map_or_null(v.labels)},
          {"Mountpoint", v.mountpoint},
          {"Name", v.name},
          {"Options", string_map_or_null(v.options)},
          {"Scope", "local"}};
}

json volumes_df(engine::Engine& s) {
  json out = json::array();
  for (auto& v : s.volumes().list()) {
    auto j = volume_json(v);
    j["UsageData"] = {{"Size", s.volumes().size(v)},
                      {"RefCount", s.volumes().users(v.name).size()}};
    out.push_back(j);
  }
  return out;
}

void add_volume_routes(Router& router, engine::Engine& s) {
  router.add("GET", "/volumes", [&s](const Request& req) { return list(s, req); });
  router.add("POST", "/volumes/create", [&s](const Request& req) { return create(s, req); });
  router.add("POST", "/volumes/prune", [&s](const Request& req) { return prune(s, req); });
  router.add("GET", "/volumes/{name}", [&s](const Request& req) {
    return json_response(volume_json(s.volumes().get(req.params.at("name"))).dump());
  });
  router.add("DELETE", "/volumes/{name}", [&s](const Request& req) {
    s.volumes().remove(req.params.at("name"), req.flag("force"));
    return no_content(204);
  });
}

}  // namespace berth::api
