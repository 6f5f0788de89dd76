// POST /commit: a new image from a container's changes.
#include <nlohmann/json.hpp>

#include "api/routes.h"
#include "base/error.h"

namespace berth::api {
namespace {

using nlohmann::json;

// dockerd's repo and tag parameters: no repo, no tag; "latest" when only a repo is given.
std::optional<image::Reference> commit_reference(const Request& req) {
  std::string repo = req.q("repo"), tag = req.q("tag");
  if (repo.empty()) return std::nullopt;
  image::Reference ref = image::parse_reference(repo);
  if (!ref.digest.empty()) throw InvalidArgument("cannot import digest reference");
  if (!tag.empty()) {
    image::check_tag(tag);
    ref.tag = tag;
  }
  if (ref.tag.empty()) ref.tag = "latest";
  return ref;
}

}  // namespace

void add_commit_routes(Router& router, engine::Engine& s) {
  router.add("POST", "/commit", [&s](const Request& req) {
    engine::CommitOptions o;
    o.author = req.q("author");
    o.comment = req.q("comment");
    auto range = req.query.equal_range("changes");
    for (auto it = range.first; it != range.second; ++it) o.changes.push_back(it->second);
    // Pausing is the default since API 1.13: only an explicit false turns it off.
    o.pause = req.q("pause").empty() || req.flag("pause");
    // The body, when there is one, is a container Config (dockerd also accepts the create
    // wrapper's HostConfig and NetworkingConfig beside it, and ignores them here).
    if (json body = req.body.empty() ? json(nullptr) : json::parse(req.body); !body.is_null()) {
      if (!body.is_object()) throw InvalidArgument("commit: the config must be a JSON object");
      body.erase("HostConfig");
      body.erase("NetworkingConfig");
      o.config = std::move(body);
    }
    o.tag = commit_reference(req);
    auto img = s.commit(req.q("container"), o);
    return json_response(json{{"Id", img.id}}.dump(), 201);
  });
}

}  // namespace berth::api
