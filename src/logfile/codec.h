// How one log entry is laid out in a container's log file. json-file uses Docker's line
// format; local uses a compact length-framed binary record of berth's own. Everything else
// (rotation, compression, reading, following) is the same for both and only goes through
// this interface.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace berth::logfile {

// Docker's stream numbers.
enum class Source : uint8_t { kStdout = 1, kStderr = 2 };

struct Entry {
  Source source = Source::kStdout;
  std::string text;  // with its '\n' when the line was complete
  int64_t time_nano = 0;
};

class Codec {
 public:
  virtual ~Codec() = default;
  // Appends the encoded entry to `out`.
  virtual void encode(Source source, std::string_view text, int64_t time_nano,
                      std::string& out) const = 0;
  // Decodes the entry at the front of `data`. Returns how many bytes it takes, or 0 when
  // `data` does not hold all of it yet. `ok` is false for bytes that are not an entry (one cut
  // by a crash): the caller drops the bytes returned and goes on.
  virtual size_t decode(std::string_view data, Entry& out, bool& ok) const = 0;
};

// "json-file" or "local"; throws InvalidArgument for any other name.
const Codec& codec_for(std::string_view driver);

}  // namespace berth::logfile
