// /containers/{name}/archive: HEAD (stat), GET (a tar of a path) and PUT (extract a tar into a
// directory), the API under `docker cp`.
#include <nlohmann/json.hpp>
#include <string>

#include "api/routes.h"
#include "base/log.h"

namespace berth::api {
namespace {

constexpr const char* kStatHeader = "X-Docker-Container-Path-Stat";

std::string base64(const std::string& in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8) |
                 static_cast<uint8_t>(in[i + 2]);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63],
            kAlphabet[v & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t v = static_cast<uint8_t>(in[i]) << 16;
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], '=', '='};
  } else if (i + 2 == in.size()) {
    uint32_t v = (static_cast<uint8_t>(in[i]) << 16) | (static_cast<uint8_t>(in[i + 1]) << 8);
    out += {kAlphabet[v >> 18], kAlphabet[(v >> 12) & 63], kAlphabet[(v >> 6) & 63], '='};
  }
  return out;
}

// Docker's setContainerPathStatHeader: base64 of the stat's JSON.
void set_stat_header(Response& r, const engine::PathStat& stat) {
  r.headers[kStatHeader] = base64(stat.to_json().dump());
}

}  // namespace

void add_archive_routes(Router& router, engine::Engine& s) {
  engine::ContainerManager& m = s.containers();
  router.add("HEAD", "/containers/{name}/archive", [&m](const Request& req) {
    Response r = no_content(200);
    set_stat_header(r, engine::stat_container_path(m, req.params.at("name"), req.q("path")));
    return r;
  });
  router.add("GET", "/containers/{name}/archive", [&m](const Request& req) {
    std::string name = req.params.at("name"), path = req.q("path");
    // The stat comes first: a missing path is a 404 before the 200 of the stream goes out.
    auto stat = engine::stat_container_path(m, name, path);
    Response r;
    r.content_type = "application/x-tar";
    set_stat_header(r, stat);
    r.stream = [&m, name, path](const ChunkWriter& write) {
      try {
        engine::archive_container_path(m, name, path, [&](std::string_view data) {
          if (!write(data)) throw Error("client went away");
        });
      } catch (const std::exception& e) {
        // The answer's head is out: the client sees a tar cut short.
        log::warn("archive " + name + ":" + path + ": " + e.what());
      }
    };
    return r;
  });
  router.add(
      "PUT", "/containers/{name}/archive",
      [&m](const Request& req) {
        engine::ExtractOptions opts;
        opts.no_overwrite_dir_non_dir = req.flag("noOverwriteDirNonDir");
        opts.copy_uid_gid = req.flag("copyUIDGID");
        engine::extract_to_container_dir(m, req.params.at("name"), req.q("path"), opts,
                                         req.read_body);
        return no_content(200);
      },
      true);
}

}  // namespace berth::api
