// `commit`: a new image from a container's changes (Docker's POST /commit).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "engine/events.h"
#include "engine/manager.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/reference.h"

namespace berth::engine {

struct CommitOptions {
  std::string author, comment;
  std::vector<std::string> changes;  // Dockerfile instructions applied to the config
  bool pause = true;                 // freeze a running container while its layer is read
  // A config sent with the request: it replaces the container's, which then only fills in
  // what it leaves out.
  std::optional<nlohmann::json> config;
  std::optional<image::Reference> tag;
};

// Makes the image from the container's writable layer on top of its image, tags it when
// asked, and publishes the container's "commit" event. Throws NotFound for an unknown
// container, InvalidArgument for a bad change, Conflict for a dead or departing one.
image::Image commit_container(ContainerManager& containers, image::ImageStore& images,
                              image::ContentStore& content, EventBus& events,
                              const std::string& ref, const CommitOptions& opts);

}  // namespace berth::engine
