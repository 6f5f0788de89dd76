#include "cli/terminal.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cctype>

#include "base/error.h"
#include "base/fs.h"

namespace berth::cli {

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios t{};
  if (::tcgetattr(fd, &t) != 0) return;  // not a terminal: nothing to change or restore
  saved_ = t;
  t.c_iflag &= ~(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
  t.c_oflag &= ~OPOST;
  t.c_lflag &= ~(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
  t.c_cflag &= ~(CSIZE | PARENB);
  t.c_cflag |= CS8;
  t.c_cc[VMIN] = 1;
  t.c_cc[VTIME] = 0;
  ::tcsetattr(fd, TCSANOW, &t);
}

RawTerminal::~RawTerminal() {
  if (saved_) ::tcsetattr(fd_, TCSANOW, &*saved_);
}

std::optional<TermSize> terminal_size(int fd) {
  winsize ws{};
  if (::ioctl(fd, TIOCGWINSZ, &ws) != 0) return std::nullopt;
  return TermSize{ws.ws_row, ws.ws_col};
}

std::string parse_detach_keys(const std::string& keys) {
  std::string out;
  for (const auto& raw : split(keys, ',')) {
    std::string key = raw;
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key.size() == 1) {
      out += raw[0];
      continue;
    }
    // ctrl-a .. ctrl-z and ctrl-@ ctrl-[ ctrl-\ ctrl-] ctrl-^ ctrl-_ (moby/term's ToBytes).
    if (key.size() == 6 && key.rfind("ctrl-", 0) == 0) {
      char c = key[5];
      if (c >= 'a' && c <= 'z') {
        out += static_cast<char>(c - 'a' + 1);
        continue;
      }
      if (c == '@' || c == '[' || c == '\\' || c == ']' || c == '^' || c == '_') {
        out += static_cast<char>(c == '@' ? 0 : c - '@');
        continue;
      }
    }
    throw Error("Unknown character: '" + raw + "'");
  }
  return out;
}

std::string EscapeProxy::filter(std::string_view in, bool& detach) {
  detach = false;
  if (keys_.empty()) return std::string(in);
  std::string out;
  for (char c : in) {
    if (c == keys_[matched_]) {
      if (++matched_ == keys_.size()) {
        detach = true;
        return out;
      }
      continue;
    }
    // Not the sequence after all: release what was held back, then look at `c` afresh.
    out.append(keys_, 0, matched_);
    matched_ = 0;
    if (c == keys_[0]) {
      matched_ = 1;
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace berth::cli
