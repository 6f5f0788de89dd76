// Column alignment as Go's text/tabwriter does it (left-aligned cells, space padding), which
// is what shapes every docker table. Cells end at '\t'; the last cell of a line is not aligned.
#pragma once

#include <string>
#include <string_view>

namespace berth::cli {

struct TabwriterOptions {
  int minwidth = 0;
  int padding = 1;
};

std::string tabwrite(std::string_view text, TabwriterOptions opts);

}  // namespace berth::cli
