#include "api/image_json.h"

#include <algorithm>

#include "api/router.h"
#include "base/time.h"

namespace berth::api {
namespace {

// Sorted by full name, as Docker lists them.
nlohmann::json familiar(std::vector<std::string> refs) {
  std::sort(refs.begin(), refs.end());
  nlohmann::json out = nlohmann::json::array();
  for (auto& r : refs) out.push_back(image::parse_reference(r).familiar_string());
  return out;
}

}  // namespace

int64_t image_created_nano(const image::Image& img) {
  auto t = parse_rfc3339(img.config.created);
  return t ? *t : img.loaded * 1000000000;
}

int64_t image_created(const image::Image& img) {
  return image_created_nano(img) / 1000000000;
}

std::map<std::string, std::string> image_labels(const image::Image& img) {
  std::map<std::string, std::string> out;
  auto it = img.config.config.find("Labels");
  if (it != img.config.config.end() && it->is_object())
    for (auto& [k, v] : it->items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

nlohmann::json image_summary(const image::Image& img, const std::string& api_version) {
  nlohmann::json j = {{"Id", img.id},
                      {"ParentId", img.parent},
                      {"RepoTags", familiar(img.tags)},
                      {"RepoDigests", familiar(img.digests)},
                      {"Created", image_created(img)},
                      {"Size", img.size},
                      {"SharedSize", -1},
                      {"Labels", image_labels(img)},
                      {"Containers", -1}};
  // Older clients expect placeholders for images without names, and VirtualSize.
  if (compare_api_versions(api_version, "1.43") < 0) {
    if (img.tags.empty()) j["RepoTags"] = {"<none>:<none>"};
    if (img.digests.empty()) j["RepoDigests"] = {"<none>@<none>"};
  }
  if (compare_api_versions(api_version, "1.44") < 0) j["VirtualSize"] = img.size;
  return j;
}

nlohmann::json image_inspect(const image::Image& img, const image::ImageStore& store,
                             const std::string& api_version) {
  nlohmann::json raw = nlohmann::json::parse(img.config_text);
  auto dirs = store.layer_dirs(img);
  nlohmann::json graph = nlohmann::json::object();
  if (!dirs.empty()) {
    graph["UpperDir"] = dirs.front();
    std::string lower;
    for (size_t i = 1; i < dirs.size(); i++) lower += (lower.empty() ? "" : ":") + dirs[i];
    if (!lower.empty()) graph["LowerDir"] = lower;
  }
  nlohmann::json cfg = img.config.config.is_object() ? img.config.config : nlohmann::json::object();
  // A committed image keeps its message in its last history entry, where dockerd finds it.
  std::string comment = raw.value("comment", "");
  if (comment.empty() && !img.config.history.empty()) comment = img.config.history.back().comment;
  nlohmann::json j = {
      {"Id", img.id},
      {"RepoTags", familiar(img.tags)},
      {"RepoDigests", familiar(img.digests)},
      {"Parent", img.parent},
      {"Comment", comment},
      {"Created",
       img.config.created.empty() ? format_rfc3339(img.loaded * 1000000000) : img.config.created},
      {"DockerVersion", raw.value("docker_version", "")},
      {"Author", img.config.author},
      {"Config", cfg},
      {"Architecture", img.config.architecture},
      {"Os", img.config.os},
      {"Size", img.size},
      {"GraphDriver", {{"Name", "overlay2"}, {"Data", graph}}},
      {"RootFS", {{"Type", "layers"}, {"Layers", img.config.diff_ids}}},
      {"Metadata", {{"LastTagTime", format_rfc3339(img.loaded * 1000000000)}}}};
  // The container an image was committed from: dropped from the API in 1.45.
  if (compare_api_versions(api_version, "1.45") < 0) {
    j["Container"] = raw.value("container", "");
    j["ContainerConfig"] = raw.value("container_config", nlohmann::json::object());
  }
  return j;
}

nlohmann::json image_history(const image::Image& img, const image::ImageStore& store) {
  nlohmann::json out = nlohmann::json::array();
  size_t layer = 0;
  std::vector<nlohmann::json> rows;
  auto& hist = img.config.history;
  for (size_t i = 0; i < hist.size(); i++) {
    auto& h = hist[i];
    int64_t size = 0;
    // Only entries that made a layer own one, in order.
    if (!h.empty_layer && layer < img.chain_ids.size())
      size = store.layer_size(img.chain_ids[layer++]);
    auto t = parse_rfc3339(h.created);
    rows.push_back({{"Id", "<missing>"},
                    {"Created", t ? *t / 1000000000 : 0},
                    {"CreatedBy", h.created_by},
                    {"Tags", nullptr},
                    {"Size", size},
                    {"Comment", h.comment}});
  }
  if (rows.empty()) {
    rows.push_back({{"Id", "<missing>"},
                    {"Created", image_created(img)},
                    {"CreatedBy", ""},
                    {"Tags", nullptr},
                    {"Size", img.size},
                    {"Comment", ""}});
  }
  rows.back()["Id"] = img.id;
  rows.back()["Tags"] = familiar(img.tags);
  for (auto it = rows.rbegin(); it != rows.rend(); ++it) out.push_back(*it);
  return out;
}

}  // namespace berth::api
