#include "support/file.h"

#include <fstream>
#include <iterator>

namespace berth::test {

std::string slurp(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace berth::test
