// The local terminal during an interactive session: raw mode (always restored), its size,
// and docker's detach key sequence (ctrl-p,ctrl-q by default).
#pragma once

#include <termios.h>

#include <optional>
#include <string>
#include <string_view>

namespace berth::cli {

// Puts `fd` in raw mode as moby/term's MakeRaw does and restores the saved mode when
// destroyed, so every exit path (return, exception) gives the user their terminal back.
class RawTerminal {
 public:
  explicit RawTerminal(int fd);
  ~RawTerminal();
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

 private:
  int fd_;
  std::optional<termios> saved_;
};

struct TermSize {
  unsigned short rows = 0, cols = 0;
};
std::optional<TermSize> terminal_size(int fd);

inline constexpr const char* kDefaultDetachKeys = "ctrl-p,ctrl-q";

// "ctrl-p,ctrl-q" -> "\x10\x11"; throws berth::Error with docker's wording on a bad key.
std::string parse_detach_keys(const std::string& keys);

// Watches typed input for the detach sequence. Bytes that could start the sequence are held
// back until it is clear they do not, then released, as moby/term's escape proxy does.
class EscapeProxy {
 public:
  explicit EscapeProxy(std::string keys) : keys_(std::move(keys)) {}
  // Returns the bytes to forward; sets `detach` once the whole sequence was typed.
  std::string filter(std::string_view in, bool& detach);

 private:
  std::string keys_;
  size_t matched_ = 0;
};

}  // namespace berth::cli
