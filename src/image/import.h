// `import`: a root file system tarball (plain, gzip, zstd, bzip2 or xz) becomes a one-layer
// image, with `--change` instructions and a message in its history.
#pragma once

#include <string>
#include <vector>

#include "image/image_store.h"
#include "image/stream.h"

namespace berth::image {

struct ImportOptions {
  std::string source = "-";  // shown in history: "Imported from <source>"
  std::string message;       // replaces that comment when given
  std::vector<std::string> changes;
  std::string os = "linux";
  std::string architecture;  // the host's when empty
};

// Returns the new image (not tagged). Throws InvalidArgument for a bad archive or change.
Image import_rootfs(ImageStore& store, ContentStore& content, const ReadFn& src,
                    const ImportOptions& opts);

}  // namespace berth::image
