// Images in and out as archives: POST /images/load, GET /images/get (save),
// POST /images/create?fromSrc= (import); ?fromImage= (pull) and the other registry routes
// are in registry_routes.cc.
#include <nlohmann/json.hpp>

#include "api/json_message.h"
#include "api/registry_routes.h"
#include "api/routes.h"
#include "base/error.h"

namespace berth::api {
namespace {

using nlohmann::json;

std::string stream_line(const char* key, const std::string& text) {
  return json_message(json{{key, text}});
}

Response save(engine::Engine& s, const std::vector<std::string>& names) {
  auto write_archive = s.images().save(names);
  Response r;
  r.content_type = "application/x-tar";
  r.stream = [write_archive = std::move(write_archive)](const ChunkWriter& write) {
    try {
      write_archive([&](std::string_view data) {
        if (!write(data)) throw Error("client went away");
      });
    } catch (const std::exception&) {
      // The status line has gone out; ending the stream early is how the client learns.
    }
  };
  return r;
}

Response import(engine::Engine& s, const Request& req) {
  image::ImportOptions opts;
  opts.message = req.q("message");
  auto range = req.query.equal_range("changes");
  for (auto it = range.first; it != range.second; ++it) opts.changes.push_back(it->second);
  if (auto platform = req.q("platform"); !platform.empty()) {
    auto slash = platform.find('/');
    opts.os = platform.substr(0, slash);
    if (slash != std::string::npos) opts.architecture = platform.substr(slash + 1);
    if (opts.os != "linux") throw InvalidArgument("unsupported os " + opts.os);
  }
  auto img = s.images().import(req.q("fromSrc"), req.read_body, opts, req.q("repo"), req.q("tag"));
  Response r;
  r.body = stream_line("status", img.id);
  return r;
}

}  // namespace

void add_image_transfer_routes(Router& router, engine::Engine& s) {
  router.add(
      "POST", "/images/load",
      [&s](const Request& req) {
        Response r;
        try {
          auto result = s.images().load(req.read_body);
          for (auto& m : result.messages) r.body += stream_line("stream", m + "\n");
        } catch (const std::exception& e) {
          // As dockerd: the answer is a 200 stream, and a bad archive is its last message.
          r.body +=
              json_message(json{{"errorDetail", {{"message", e.what()}}}, {"error", e.what()}});
        }
        return r;
      },
      true);

  router.add("GET", "/images/get", [&s](const Request& req) {
    std::vector<std::string> names;
    auto range = req.query.equal_range("names");
    for (auto it = range.first; it != range.second; ++it) names.push_back(it->second);
    return save(s, names);
  });
  router.add("GET", "/images/{name}/get",
             [&s](const Request& req) { return save(s, {req.params.at("name")}); });

  add_registry_routes(router, s);
  router.add(
      "POST", "/images/create",
      [&s](const Request& req) {
        if (req.query.count("fromSrc")) return import(s, req);
        if (req.q("fromImage").empty()) throw InvalidArgument("fromImage or fromSrc is required");
        return pull_image(s, req);
      },
      true);
}

}  // namespace berth::api
