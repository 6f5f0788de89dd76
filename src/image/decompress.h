// Layer blobs are kept uncompressed, under their diff id, so that save is a copy and a
// layer's digest is checked against the image config in the same pass that stores it.
#pragma once

#include <string>

#include "image/content_store.h"
#include "image/stream.h"

namespace berth::image {

enum class Compression { kNone, kGzip, kZstd, kBzip2, kXz };

Compression detect_compression(std::string_view head);
// Stores the stream, decompressed if it is gzip, zstd, bzip2 or xz; returns the digest of the
// uncompressed bytes.
std::string store_decompressed(ContentStore& content, const ReadFn& src);

}  // namespace berth::image
