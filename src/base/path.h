// Paths as Go's path/filepath treats them, in whose terms Docker's path rules are written.
#pragma once

#include <string>
#include <string_view>

namespace berth {

// filepath.Clean: the shortest equivalent path ("/a/../b/" -> "/b", "a/./b" -> "a/b",
// "" -> "."); ".." stays only at the start of a relative path.
std::string clean_path(std::string_view path);

}  // namespace berth
