#include "image/commit.h"

#include "base/error.h"
#include "base/time.h"

namespace berth::image {

using nlohmann::json;

Image commit_image(ImageStore& store, ContentStore& content, const Image& parent,
                   const LayerWriter& write_layer, const ChildImage& child) {
  auto blob = content.writer();
  uint64_t entries = write_layer([&](std::string_view data) { blob->write(data); });
  std::string diff_id;
  if (entries > 0) diff_id = blob->commit();
  blob.reset();  // an empty diff's blob is not kept
  std::shared_ptr<void> hold;
  if (!diff_id.empty()) hold = store.pin({diff_id});

  // What the parent carries over as it is: platform, layers, history.
  json base = json::parse(parent.config_text);
  std::string created = now_rfc3339();
  json history =
      base.contains("history") && base["history"].is_array() ? base["history"] : json::array();
  json entry = {{"created", created}};
  std::string created_by;
  if (child.container_config.contains("Cmd") && child.container_config["Cmd"].is_array())
    for (auto& a : child.container_config["Cmd"])
      if (a.is_string()) created_by += (created_by.empty() ? "" : " ") + a.get<std::string>();
  if (!created_by.empty()) entry["created_by"] = created_by;
  if (!child.author.empty()) entry["author"] = child.author;
  if (!child.comment.empty()) entry["comment"] = child.comment;
  if (diff_id.empty()) entry["empty_layer"] = true;
  history.push_back(entry);
  json diff_ids = json::array();
  for (auto& d : parent.config.diff_ids) diff_ids.push_back(d);
  if (!diff_id.empty()) diff_ids.push_back(diff_id);

  json image = {{"architecture", parent.config.architecture.empty() ? host_architecture()
                                                                    : parent.config.architecture},
                {"os", parent.config.os.empty() ? "linux" : parent.config.os},
                {"config", child.config},
                {"container", child.container_id},
                {"container_config", child.container_config},
                {"created", created},
                {"history", history},
                {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  for (const char* key : {"variant", "os.version", "os.features"})
    if (base.contains(key)) image[key] = base[key];
  if (!child.author.empty()) image["author"] = child.author;
  try {
    return store.add_image(image.dump(), parent.id);
  } catch (const std::exception& e) {
    hold.reset();
    if (!diff_id.empty()) store.discard_blob(diff_id);
    rethrow_with_context(e, "commit");
  }
}

}  // namespace berth::image
