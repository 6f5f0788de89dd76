// Words of a line split on ASCII white space only: what is read this way (cgroup files,
// /proc, ps's table) may carry other bytes, UTF-8 in a command line say, that a
// locale-aware split would cut.
#pragma once

#include <string_view>
#include <vector>

namespace berth {

bool ascii_space(char c);
std::vector<std::string_view> words(std::string_view line);

}  // namespace berth
