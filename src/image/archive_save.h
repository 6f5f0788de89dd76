// `save`: images as one tar that is both a docker-save archive (manifest.json, repositories)
// and an OCI image layout (oci-layout, index.json, blobs/sha256/...), as Docker 25+ writes
// it; Docker releases before 25.0 load it by manifest.json.
#pragma once

#include <string>
#include <vector>

#include "image/image_store.h"
#include "image/stream.h"

namespace berth::image {

struct SaveEntry {
  Image image;
  std::vector<std::string> tags;  // full references to write for it
};

// Resolves the names first, so that a missing image fails before a byte is sent. A
// repository name without a tag saves every tag of that repository, as Docker does.
std::vector<SaveEntry> plan_save(const ImageStore& store, const std::vector<std::string>& names);
void write_save(const ContentStore& content, const std::vector<SaveEntry>& plan,
                const WriteFn& out);

}  // namespace berth::image
