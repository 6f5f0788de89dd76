#include "cli/tabwriter.h"

#include <vector>

namespace berth::cli {
namespace {

size_t display_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;  // counts code points, as Go's utf8.RuneCount
  return n;
}

using Line = std::vector<std::string_view>;

class Formatter {
 public:
  Formatter(const std::vector<Line>& lines, TabwriterOptions opts) : lines_(lines), opts_(opts) {}

  std::string run() {
    format(0, lines_.size());
    return std::move(out_);
  }

 private:
  // Go's tabwriter.format: a column block is a run of consecutive lines that all have a
  // terminated cell in the current column; each block gets its own width.
  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t i = line0; i < line1; ++i) {
      if (column + 1 >= lines_[i].size()) continue;
      write_lines(line0, i);
      line0 = i;
      size_t width = static_cast<size_t>(opts_.minwidth);
      for (; i < line1; ++i) {
        if (column + 1 >= lines_[i].size()) break;
        width = std::max(width, display_width(lines_[i][column]) + opts_.padding);
      }
      widths_.push_back(width);
      format(line0, i);
      widths_.pop_back();
      line0 = i;
      // The loop's ++ skips the line that ended the block; it has no cell in this column.
    }
    write_lines(line0, line1);
  }

  void write_lines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_ += line[j];
        if (j < widths_.size()) {
          size_t w = display_width(line[j]);
          if (w < widths_[j]) out_.append(widths_[j] - w, ' ');
        }
      }
      if (i + 1 < lines_.size() || has_final_newline_) out_ += '\n';
    }
  }

 public:
  bool has_final_newline_ = false;

 private:
  const std::vector<Line>& lines_;
  TabwriterOptions opts_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string tabwrite(std::string_view text, TabwriterOptions opts) {
  std::vector<Line> lines;
  bool final_newline = !text.empty() && text.back() == '\n';
  if (final_newline) text.remove_suffix(1);
  size_t start = 0;
  while (true) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? text.npos : nl - start);
    Line cells;
    size_t cs = 0;
    while (true) {
      size_t tab = line.find('\t', cs);
      if (tab == std::string_view::npos) {
        cells.push_back(line.substr(cs));
        break;
      }
      cells.push_back(line.substr(cs, tab - cs));
      cs = tab + 1;
    }
    lines.push_back(std::move(cells));
    if (nl == std::string_view::npos) break;
    start = nl + 1;
  }
  if (text.empty() && !final_newline) return "";
  Formatter f(lines, opts);
  f.has_final_newline_ = final_newline;
  return f.run();
}

}  // namespace berth::cli
