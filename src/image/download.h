// Fetching a URL into the content store (for `import URL`), with libcurl.
#pragma once

#include <string>

#include "image/content_store.h"

namespace berth::image {

// Stores the body of an http(s) URL as a blob; returns its digest. Throws InvalidArgument
// naming the URL for a bad scheme, a failed connection or an HTTP error status.
std::string download_blob(ContentStore& content, const std::string& url);

}  // namespace berth::image
