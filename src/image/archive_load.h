// `load`: images from a tar in the docker-save format (manifest.json, with layers as tar
// files, as Docker before and after 25.0 writes it) or an OCI image layout (index.json,
// blobs/sha256/...), plain or compressed.
#pragma once

#include <string>
#include <vector>

#include "image/image_store.h"
#include "image/stream.h"

namespace berth::image {

struct LoadResult {
  // What Docker prints, one line each: "Loaded image: busybox:latest", "Loaded image ID: ...",
  // and the notes about tags taken from older images.
  std::vector<std::string> messages;
  std::vector<std::string> image_ids;
  std::vector<std::string> tags;  // full references that now point at loaded images
};

// Everything in the archive is checked (layer digests against the configs, blob names against
// their content) before any tag moves; on error no image or tag from the archive is added.
LoadResult load_archive(ImageStore& store, ContentStore& content, const ReadFn& src);

}  // namespace berth::image
