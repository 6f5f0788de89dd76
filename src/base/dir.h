// Listing a directory through an open fd, so that no path is resolved again on the way.
#pragma once

#include <string>
#include <vector>

namespace berth {

// The names in the directory `dirfd` refers to, without "." and "..", sorted (the order in
// which Go's WalkDir visits them, and Docker's tars list them).
std::vector<std::string> dir_names(int dirfd);

}  // namespace berth
