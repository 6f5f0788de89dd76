// `commit`: a new image made of a parent image and one more layer, a container's changes,
// with the config and history entry Docker writes for it.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "image/image_store.h"
#include "image/stream.h"

namespace berth::image {

struct ChildImage {
  std::string author, comment;
  std::string container_id;         // recorded as "container"
  nlohmann::json config;            // the new image's container config
  nlohmann::json container_config;  // the config of the container it came from
};

// Writes the new layer's tar to the sink it is given; returns how many entries it wrote.
using LayerWriter = std::function<uint64_t(const WriteFn& out)>;

// Registers the image (not tagged) and returns it. The layer is unpacked from its blob like
// any other layer. A diff without entries adds no layer: its history entry is marked
// empty_layer, as dockerd does.
Image commit_image(ImageStore& store, ContentStore& content, const Image& parent,
                   const LayerWriter& write_layer, const ChildImage& child);

}  // namespace berth::image
