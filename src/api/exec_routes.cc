// /containers/{name}/exec and /exec/{id}/...: create, start (hijacked unless detached),
// resize, inspect.
#include <memory>
#include <nlohmann/json.hpp>

#include "api/container_fields.h"
#include "api/routes.h"
#include "base/error.h"
#include "base/log.h"

namespace berth::api {
namespace {

using nlohmann::json;

json body_object(const Request& req) {
  if (req.body.empty()) return json::object();
  json body;
  try {
    body = json::parse(req.body);
  } catch (const json::exception& e) {
    throw InvalidArgument(std::string("invalid JSON: ") + e.what());
  }
  if (!body.is_object()) throw InvalidArgument("request body must be a JSON object");
  return body;
}

int dimension(const Request& req, const char* name) {
  std::string v = req.q(name);
  try {
    size_t used = 0;
    int n = std::stoi(v, &used);
    if (used != v.size() || n < 0) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw InvalidArgument("invalid value for " + std::string(name) + ": " + v);
  }
}

}  // namespace

void add_exec_routes(Router& router, engine::Engine& s) {
  engine::ExecManager* execs = &s.execs();
  router.add("POST", "/containers/{name}/exec", [execs](const Request& req) {
    json body = body_object(req);
    // Go's decoder matches names case-insensitively (docker-py sends "detachKeys"); neither
    // answer has Warnings, so what is not part of the API is at least logged.
    std::vector<std::string> warnings;
    check_fields("ExecConfig", body, warnings);
    for (auto& w : warnings) log::warn("exec create: " + w);
    std::string id = execs->create(req.params.at("name"), body);
    return json_response(json{{"Id", id}}.dump(), 201);
  });
  router.add("POST", "/exec/{id}/start", [execs](const Request& req) {
    json start = body_object(req);
    std::vector<std::string> warnings;
    check_fields("ExecStartConfig", start, warnings);
    for (auto& w : warnings) log::warn("exec start: " + w);
    std::string id = req.params.at("id");
    auto rec = execs->begin_start(id, start);
    Response r;
    if (start.value("Detach", false)) {
      execs->run(id, UniqueFd());
      r.content_type = "text/plain; charset=utf-8";
      return r;
    }
    r.content_type = rec.raw_stream ? "application/vnd.docker.raw-stream"
                                    : "application/vnd.docker.multiplexed-stream";
    r.hijack = [execs, id](UniqueFd conn, const std::function<void()>& send_header) {
      send_header();
      execs->run(id, std::move(conn));
    };
    return r;
  });
  router.add("POST", "/exec/{id}/resize", [execs](const Request& req) {
    execs->resize(req.params.at("id"), dimension(req, "h"), dimension(req, "w"));
    Response r;
    r.content_type = "text/plain; charset=utf-8";
    return r;
  });
  router.add("GET", "/exec/{id}/json", [execs](const Request& req) {
    return json_response(execs->get(req.params.at("id")).inspect().dump());
  });
}

}  // namespace berth::api
