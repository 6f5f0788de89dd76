// /images/json, /images/{name}/json, /images/{name}/history, /images/{name}/tag,
// DELETE /images/{name}, /images/prune and /system/df.
#include <fnmatch.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "api/container_json.h"
#include "api/filters.h"
#include "api/image_json.h"
#include "api/routes.h"
#include "base/error.h"
#include "base/time.h"

namespace berth::api {
namespace {

using image::Image;
using nlohmann::json;

bool is_dangling(const Image& img) {
  return img.tags.empty() && img.digests.empty();
}

bool has_children(const std::vector<Image>& all, const std::string& id) {
  return std::any_of(all.begin(), all.end(), [&](const Image& i) { return i.parent == id; });
}

// Docker's reference filter: a glob over the familiar name, with or without the tag.
bool match_reference(const Image& img, const std::vector<std::string>& patterns) {
  for (auto& t : img.tags) {
    auto ref = image::parse_reference(t);
    for (auto& p : patterns) {
      if (::fnmatch(p.c_str(), ref.familiar_name().c_str(), FNM_PATHNAME) == 0 ||
          ::fnmatch(p.c_str(), ref.familiar_string().c_str(), FNM_PATHNAME) == 0)
        return true;
    }
  }
  return false;
}

json list_images(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"),
                          {"dangling", "reference", "before", "since", "label", "until"});
  auto all = s.images().list();
  auto dangling = f.boolean("dangling");
  std::optional<int64_t> before, since, until;
  if (f.has("before")) before = image_created_nano(s.images().get(f.get("before").back()));
  if (f.has("since")) since = image_created_nano(s.images().get(f.get("since").back()));
  if (f.has("until")) {
    auto t = parse_api_time(f.get("until").back());
    if (!t) throw InvalidArgument("invalid filter 'until=" + f.get("until").back() + "'");
    until = *t;
  }
  bool show_all = req.flag("all");
  std::vector<const Image*> shown;
  for (auto& img : all) {
    // Intermediate images of a build: nameless parents of other images.
    if (!show_all && is_dangling(img) && has_children(all, img.id)) continue;
    if (dangling && *dangling != is_dangling(img)) continue;
    if (f.has("reference") && !match_reference(img, f.get("reference"))) continue;
    int64_t created = image_created_nano(img);
    if (before && created >= *before) continue;
    if (since && created <= *since) continue;
    if (until && created > *until) continue;
    if (!f.match_labels("label", image_labels(img))) continue;
    shown.push_back(&img);
  }
  // Newest first, as Docker lists them.
  std::stable_sort(shown.begin(), shown.end(), [](const Image* a, const Image* b) {
    return image_created_nano(*a) > image_created_nano(*b);
  });
  json out = json::array();
  for (auto* img : shown) {
    if (!f.has("reference")) {
      out.push_back(image_summary(*img, req.api_version));
      continue;
    }
    // Docker lists only the tags that match the reference filter.
    Image matched = *img;
    std::erase_if(matched.tags, [&](const std::string& t) {
      Image one = *img;
      one.tags = {t};
      return !match_reference(one, f.get("reference"));
    });
    out.push_back(image_summary(matched, req.api_version));
  }
  return out;
}

json removed_json(const std::vector<image::RemovedItem>& removed) {
  json out = json::array();
  for (auto& r : removed)
    out.push_back(r.untagged.empty() ? json{{"Deleted", r.deleted}}
                                     : json{{"Untagged", r.untagged}});
  return out;
}

Response remove_image(engine::Engine& s, const Request& req) {
  auto removed = s.images().remove(req.params.at("name"), req.flag("force"), !req.flag("noprune"));
  return json_response(removed_json(removed).dump());
}

Response prune_images(engine::Engine& s, const Request& req) {
  auto f = Filters::parse(req.q("filters"), {"dangling", "until", "label", "label!"});
  bool only_dangling = f.boolean("dangling").value_or(true);
  std::optional<int64_t> until;
  if (f.has("until")) {
    auto t = parse_api_time(f.get("until").back());
    if (!t) throw InvalidArgument("invalid filter 'until=" + f.get("until").back() + "'");
    until = *t;
  }
  std::vector<std::string> ids;
  for (auto& img : s.images().list()) {
    if (only_dangling && !is_dangling(img)) continue;
    if (until && image_created_nano(img) > *until) continue;
    auto labels = image_labels(img);
    if (!f.match_labels("label", labels) || !f.match_no_labels("label!", labels)) continue;
    ids.push_back(img.id);
  }
  auto pruned = s.images().prune(ids);
  return json_response(json{
      {"ImagesDeleted", pruned.removed.empty() ? json(nullptr) : removed_json(pruned.removed)},
      {"SpaceReclaimed",
       pruned.reclaimed}}.dump());
}

}  // namespace

void add_image_routes(Router& router, engine::Engine& s) {
  router.add("GET", "/images/json",
             [&s](const Request& req) { return json_response(list_images(s, req).dump()); });

  router.add("GET", "/images/{name}/json", [&s](const Request& req) {
    auto img = s.images().get(req.params.at("name"));
    return json_response(image_inspect(img, s.images().store(), req.api_version).dump());
  });

  router.add("GET", "/images/{name}/history", [&s](const Request& req) {
    auto img = s.images().get(req.params.at("name"));
    return json_response(image_history(img, s.images().store()).dump());
  });

  router.add("POST", "/images/{name}/tag", [&s](const Request& req) {
    s.images().tag(req.params.at("name"), req.q("repo"), req.q("tag"));
    Response r;
    r.status = 201;
    r.content_type = "text/plain; charset=utf-8";
    return r;
  });

  router.add("DELETE", "/images/{name}", [&s](const Request& req) { return remove_image(s, req); });
  router.add("POST", "/images/prune", [&s](const Request& req) { return prune_images(s, req); });

  router.add("GET", "/system/df", [&s](const Request& req) {
    auto all = s.images().list();
    json images = json::array();
    std::map<std::string, int> uses;  // chain id -> images that have it
    for (auto& img : all)
      for (auto& c : img.chain_ids) uses[c]++;
    int64_t layers_size = 0;
    for (auto& [c, n] : uses) layers_size += s.images().layer_size(c);
    std::map<std::string, int> users;  // image id -> containers made from it
    json containers = json::array();
    for (auto& c : s.containers().list()) {
      users[c.image_id]++;
      auto j = container_summary(c, s.networks());
      int64_t rw = s.containers().size_rw(c.id), image_size = 0;
      if (auto img = s.images().find(c.image_id))
        for (auto& chain : img->chain_ids) image_size += s.images().layer_size(chain);
      j["SizeRw"] = rw;
      j["SizeRootFs"] = rw + image_size;
      containers.push_back(j);
    }
    for (auto& img : all) {
      auto j = image_summary(img, req.api_version);
      int64_t shared = 0;
      for (auto& c : img.chain_ids)
        if (uses[c] > 1) shared += s.images().layer_size(c);
      j["SharedSize"] = shared;
      j["Containers"] = users[img.id];
      images.push_back(j);
    }
    return json_response(json{
        {"LayersSize", layers_size},
        {"Images", images},
        {"Containers", containers},
        {"Volumes", volumes_df(s)},
        {"BuildCache",
         json::array()}}.dump());
  });
}

}  // namespace berth::api
