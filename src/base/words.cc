#include "base/words.h"

namespace berth {

bool ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::vector<std::string_view> words(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && ascii_space(line[i])) i++;
    size_t start = i;
    while (i < line.size() && !ascii_space(line[i])) i++;
    if (i > start) out.push_back(line.substr(start, i - start));
  }
  return out;
}

}  // namespace berth
