// The inverse of layer.h: an overlayfs upper directory (a container's writable layer) as an
// image layer tar, its overlayfs whiteouts turned back into OCI/Docker ones — a 0/0 character
// device becomes an empty `.wh.NAME`, a directory marked trusted.overlay.opaque=y gets a
// `.wh..wh..opq` entry.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "image/stream.h"

namespace berth::image {

// Writes the tar of `upper` to `out`, in lexical order, without the directory itself.
// `keep(path)` ("/etc/passwd") decides which paths go in; a directory left out takes its
// contents with it. The walk never follows a symlink, so a running container that swaps a
// directory for a link cannot make it read host files. Returns the number of paths written
// (an empty diff is 0, and its tar is the two zero blocks of an empty archive).
uint64_t write_layer_tar(const std::string& upper,
                         const std::function<bool(const std::string& path)>& keep,
                         const WriteFn& out);

}  // namespace berth::image
