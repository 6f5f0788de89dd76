// Reading files in assertions.
#pragma once

#include <string>

namespace berth::test {

// The whole contents of a file, or "" when it cannot be read: a missing file then fails the
// comparison that names it instead of throwing out of the test.
std::string slurp(const std::string& path);

}  // namespace berth::test
