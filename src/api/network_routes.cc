// /networks: list, inspect, create, remove, connect, disconnect, prune.
#include "api/container_json.h"
#include "api/field_names.h"
#include "api/filters.h"
#include "api/routes.h"
#include "base/error.h"
#include "base/time.h"

namespace berth::api {

using nlohmann::json;

namespace {

std::map<std::string, std::string> container_names(engine::Engine& s) {
  std::map<std::string, std::string> names;
  for (auto& c : s.containers().list()) names[c.id] = c.name;
  return names;
}

std::map<std::string, std::string> labels_of(const network::Network& n) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : n.labels.items())
    if (v.is_string()) out[k] = v;
  return out;
}

Response list(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"),
                          {"dangling", "driver", "id", "label", "name", "scope", "type"});
  auto dangling = f.boolean("dangling");
  json out = json::array();
  for (auto& n : s.networks().list()) {
    if (!f.match("driver", n.driver) || !f.match("scope", "local")) continue;
    if (f.has("type") && !f.match("type", n.predefined() ? "builtin" : "custom")) continue;
    if (f.has("name")) {
      bool hit = false;
      for (auto& v : f.get("name")) hit |= n.name.find(v) != std::string::npos;
      if (!hit) continue;
    }
    if (f.has("id")) {
      bool hit = false;
      for (auto& v : f.get("id")) hit |= n.id.rfind(v, 0) == 0;
      if (!hit) continue;
    }
    if (!f.match_labels("label", labels_of(n))) continue;
    if (dangling && *dangling != (!n.predefined() && !s.networks().in_use(n.id))) continue;
    out.push_back(network_inspect(n, {}, {}));
  }
  return json_response(out.dump());
}

Response prune(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"), {"until", "label", "label!"});
  std::optional<int64_t> until;
  if (f.has("until")) {
    auto t = parse_api_time(f.get("until").back());
    if (!t) throw InvalidArgument("invalid filter 'until=" + f.get("until").back() + "'");
    until = *t;
  }
  auto deleted = s.networks().prune([&](const network::Network& n) {
    if (until && parse_rfc3339(n.created).value_or(0) >= *until) return false;
    auto labels = labels_of(n);
    return f.match_labels("label", labels) && f.match_no_labels("label!", labels);
  });
  return json_response(json{{"NetworksDeleted", deleted}}.dump());
}

}  // namespace

void add_network_routes(Router& router, engine::Engine& s) {
  router.add("GET", "/networks", [&s](const Request& req) { return list(s, req); });
  router.add("GET", "/networks/{id}", [&s](const Request& req) {
    auto n = s.networks().get(req.params.at("id"));
    return json_response(
        network_inspect(n, s.networks().endpoints(n.id), container_names(s)).dump());
  });
  router.add("POST", "/networks/create", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    canonical_network_create(body);
    auto n = s.networks().create(body);
    return json_response(json{{"Id", n.id}, {"Warning", ""}}.dump(), 201);
  });
  router.add("DELETE", "/networks/{id}", [&s](const Request& req) {
    s.networks().remove(req.params.at("id"));
    return no_content(204);
  });
  router.add("POST", "/networks/{id}/connect", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    if (!body.is_object()) throw InvalidArgument("network connect: expected a JSON object");
    canonical_keys(body, {"Container", "EndpointConfig"});
    if (auto ep = body.find("EndpointConfig"); ep != body.end()) canonical_endpoint(*ep);
    s.containers().connect_network(body.value("Container", ""), req.params.at("id"),
                                   body.value("EndpointConfig", json::object()));
    return no_content(200);
  });
  router.add("POST", "/networks/{id}/disconnect", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    if (!body.is_object()) throw InvalidArgument("network disconnect: expected a JSON object");
    canonical_keys(body, {"Container", "Force"});
    s.containers().disconnect_network(body.value("Container", ""), req.params.at("id"),
                                      body.value("Force", false));
    return no_content(200);
  });
  router.add("POST", "/networks/prune", [&s](const Request& req) { return prune(s, req); });
}

}  // namespace berth::api
