// Byte streams between the API and the image store: an HTTP body in, a tar out.
#pragma once

#include <cstddef>
#include <functional>
#include <string_view>

namespace berth::image {

// Fills up to `len` bytes; returns 0 at the end. Throws when the source fails.
using ReadFn = std::function<size_t(char* buf, size_t len)>;
// Takes every byte given; throws when the sink fails (the client went away).
using WriteFn = std::function<void(std::string_view data)>;

}  // namespace berth::image
