// /networks: list, inspect, create, remove, connect, disconnect, prune.
#include "api/container_json.h"
#include "api/filters.h"
#include "api/services.h"
#include "base/error.h"
#include "base/time.h"

namespace berth::api {

using nlohmann::json;

namespace {

std::map<std::string, std::string> container_names(Services& s) {
  std::map<std::string, std::string> names;
  for (auto& c : s.containers.list()) names[c.id] = c.name;
  return names;
}

std::map<std::string, std::string> labels_of(const network::Network& n) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : n.labels.items())
    if (v.is_string()) out[k] = v;
  return out;
}

void publish_network_event(Services& s, const std::string& action, const network::Network& n,
                           const std::string& container = "") {
  engine::Event e{"network", action, n.id, {{"name", n.name}, {"type", n.driver}}, 0};
  if (!container.empty()) e.attributes["container"] = container;
  s.events.publish(std::move(e));
}

bool in_use(const std::vector<network::Endpoint>& endpoints, const std::string& network_id) {
  for (auto& e : endpoints)
    if (e.network_id == network_id) return true;
  return false;
}

Response list(Services& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"),
                          {"dangling", "driver", "id", "label", "name", "scope", "type"});
  auto dangling = f.boolean("dangling");
  auto endpoints = s.networks.endpoints();
  json out = json::array();
  for (auto& n : s.networks.list()) {
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
    if (dangling && *dangling != (!n.predefined() && !in_use(endpoints, n.id))) continue;
    out.push_back(network_inspect(n, {}, {}));
  }
  return json_response(out.dump());
}

Response prune(Services& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"), {"until", "label", "label!"});
  std::optional<int64_t> until;
  if (f.has("until")) {
    auto t = parse_api_time(f.get("until").back());
    if (!t) throw InvalidArgument("invalid filter 'until=" + f.get("until").back() + "'");
    until = *t;
  }
  auto endpoints = s.networks.endpoints();
  json deleted = json::array();
  for (auto& n : s.networks.list()) {
    if (n.predefined() || in_use(endpoints, n.id)) continue;
    if (until && parse_rfc3339(n.created).value_or(0) >= *until) continue;
    if (!f.match_labels("label", labels_of(n))) continue;
    if (f.has("label!")) {
      bool excluded = false;
      for (auto& v : f.get("label!")) {
        auto eq = v.find('=');
        auto labels = labels_of(n);
        auto it = labels.find(v.substr(0, eq));
        excluded |=
            it != labels.end() && (eq == std::string::npos || it->second == v.substr(eq + 1));
      }
      if (excluded) continue;
    }
    try {
      s.networks.remove(n.id);
      publish_network_event(s, "destroy", n);
      deleted.push_back(n.name);
    } catch (const Forbidden&) {
      // Taken into use meanwhile: not unused any more.
    }
  }
  return json_response(json{{"NetworksDeleted", deleted}}.dump());
}

}  // namespace

void add_network_routes(Router& router, Services& s) {
  router.add("GET", "/networks", [&s](const Request& req) { return list(s, req); });
  router.add("GET", "/networks/{id}", [&s](const Request& req) {
    auto n = s.networks.get(req.params.at("id"));
    return json_response(network_inspect(n, s.networks.endpoints(n.id), container_names(s)).dump());
  });
  router.add("POST", "/networks/create", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    auto n = s.networks.create(body);
    publish_network_event(s, "create", n);
    return json_response(json{{"Id", n.id}, {"Warning", ""}}.dump(), 201);
  });
  router.add("DELETE", "/networks/{id}", [&s](const Request& req) {
    auto n = s.networks.get(req.params.at("id"));
    s.networks.remove(n.id);
    publish_network_event(s, "destroy", n);
    return no_content(204);
  });
  router.add("POST", "/networks/{id}/connect", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    if (!body.is_object()) throw InvalidArgument("network connect: expected a JSON object");
    auto n = s.networks.get(req.params.at("id"));
    auto c = s.containers.get(body.value("Container", ""));
    s.containers.connect_network(c.id, n.id, body.value("EndpointConfig", json::object()));
    publish_network_event(s, "connect", n, c.id);
    return no_content(200);
  });
  router.add("POST", "/networks/{id}/disconnect", [&s](const Request& req) {
    json body = json::parse(req.body.empty() ? "{}" : req.body);
    if (!body.is_object()) throw InvalidArgument("network disconnect: expected a JSON object");
    auto n = s.networks.get(req.params.at("id"));
    std::string ref = body.value("Container", "");
    s.containers.disconnect_network(ref, n.id, body.value("Force", false));
    publish_network_event(s, "disconnect", n, ref);
    return no_content(200);
  });
  router.add("POST", "/networks/prune", [&s](const Request& req) { return prune(s, req); });
}

}  // namespace berth::api
