// POST /build (the classic builder's API: a tar context in, Docker's JSON stream out) and
// POST /build/prune.
#include <cstring>
#include <nlohmann/json.hpp>

#include "api/json_message.h"
#include "api/routes.h"
#include "base/error.h"

namespace berth::api {
namespace {

using nlohmann::json;

// A query parameter holding a JSON object of strings (buildargs, labels); null values are
// Docker's "take it from the environment", which the CLI has already done.
std::map<std::string, std::string> json_map(const Request& req, const std::string& name) {
  std::map<std::string, std::string> out;
  std::string text = req.q(name);
  if (text.empty() || text == "null") return out;
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    throw InvalidArgument("invalid " + name + " parameter: expected a JSON object");
  for (auto& [k, v] : j.items()) {
    if (v.is_null()) continue;
    if (!v.is_string())
      throw InvalidArgument("invalid " + name + " parameter: " + k + " is not a string");
    out[k] = v.get<std::string>();
  }
  return out;
}

// Parameters berth's builder does not apply: refused when they ask for something.
void refuse_unsupported(const Request& req, std::vector<std::string>& warnings) {
  auto set = [&](const std::string& k) {
    std::string v = req.q(k);
    return !v.empty() && v != "0" && v != "null" && v != "[]" && v != "{}";
  };
  if (std::string v = req.q("version"); v == "2")
    throw InvalidArgument(
        "BuildKit (builder version 2) is not supported by berthd; use the classic "
        "builder (DOCKER_BUILDKIT=0)");
  for (const char* k : {"remote", "squash", "outputs", "session", "extrahosts", "cpusetcpus",
                        "cpusetmems", "cpushares", "cpuquota", "cpuperiod", "memory", "memswap",
                        "cgroupparent", "shmsize", "ulimits", "securityopt", "isolation"})
    if (set(k))
      throw InvalidArgument(std::string("the build option '") + k +
                            "' is not supported by berth's builder yet");
  if (std::string p = req.q("platform"); !p.empty() && p.rfind("linux", 0) != 0)
    throw InvalidArgument("platform " + p + " is not supported: berth builds for this host only");
  if (set("cachefrom"))
    warnings.push_back(
        "[Warning] --cache-from is not used by berth's builder yet: the local "
        "build cache applies");
  if (req.flag("pull"))
    warnings.push_back(
        "[Warning] --pull: berth's builder uses the local base images (it does "
        "not pull)");
}

Response build(engine::Engine& s, const Request& req) {
  engine::BuildRequest br;
  auto range = req.query.equal_range("t");
  for (auto it = range.first; it != range.second; ++it)
    if (!it->second.empty()) br.tags.push_back(it->second);
  br.dockerfile = req.q("dockerfile", "Dockerfile");
  br.build_args = json_map(req, "buildargs");
  br.labels = json_map(req, "labels");
  br.target = req.q("target");
  br.no_cache = req.flag("nocache");
  br.remove = req.flag("rm", true);
  br.force_remove = req.flag("forcerm");
  if (std::string n = req.q("networkmode"); !n.empty()) br.network = n;
  if (br.network != "default" && br.network != "bridge" && br.network != "none" &&
      br.network != "host")
    throw InvalidArgument("network mode " + br.network +
                          " is not supported for builds by berth yet");
  bool quiet = req.flag("q");
  std::vector<std::string> warnings;
  refuse_unsupported(req, warnings);
  // The context is read whole before the answer starts: the build runs as the answer streams.
  std::string context;
  char buf[1 << 16];
  for (size_t n; (n = req.read_body(buf, sizeof buf)) > 0;) context.append(buf, n);

  Response r;
  r.stream = [&s, br = std::move(br), quiet, warnings = std::move(warnings),
              context = std::move(context)](const ChunkWriter& write) {
    auto send = [&](const json& j) {
      if (!write(json_message(j))) throw Error("the client went away");
    };
    size_t pos = 0;
    engine::ReadFn read = [&](char* out, size_t len) {
      size_t n = std::min(len, context.size() - pos);
      std::memcpy(out, context.data() + pos, n);
      pos += n;
      return n;
    };
    try {
      for (auto& w : warnings) send(json{{"stream", w + "\n"}});
      auto result = s.builds().build(br, read, [&](const std::string& line) {
        if (!quiet) send(json{{"stream", line}});
      });
      send(json{{"aux", {{"ID", result.image_id}}}});
      if (quiet) send(json{{"stream", result.image_id + "\n"}});
    } catch (const std::exception& e) {
      try {
        send(json{{"errorDetail", {{"message", e.what()}}}, {"error", e.what()}});
      } catch (const std::exception&) {
        // The client has gone: nobody is left to tell.
      }
    }
  };
  return r;
}

}  // namespace

void add_build_routes(Router& router, engine::Engine& s) {
  router.add(
      "POST", "/build", [&s](const Request& req) { return build(s, req); }, true);
  router.add("POST", "/build/prune", [&s](const Request& req) {
    if (req.flag("all") || !req.q("filters").empty() || !req.q("keep-storage").empty())
      throw InvalidArgument(
          "build cache prune: filters, --all and --keep-storage are not "
          "supported by berth yet");
    // The cache's records go; the images they name stay until an image prune takes them.
    return json_response(
        json{{"CachesDeleted", s.builds().prune_cache()}, {"SpaceReclaimed", 0}}.dump());
  });
}

}  // namespace berth::api
