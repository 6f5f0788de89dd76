// Log records as a reader finds them in a file (json-file lines, local's framed records, or a
// crash's leftovers): decoding never reads past the bytes given and always moves on; and any
// entry encoded decodes back to itself.
#include <cstring>

#include "fuzz_util.h"
#include "logfile/codec.h"

namespace logfile = berth::logfile;

namespace {

void decode_all(const logfile::Codec& codec, std::string_view data) {
  while (!data.empty()) {
    logfile::Entry e;
    bool ok = true;
    size_t used = codec.decode(data, e, ok);
    if (used == 0) return;  // an entry not complete yet
    berth::fuzz::check(used <= data.size(), "decode took more bytes than it was given");
    data.remove_prefix(used);
  }
}

void round_trip(const logfile::Codec& codec, logfile::Source source, std::string_view text,
                int64_t time_nano) {
  std::string out;
  codec.encode(source, text, time_nano, out);
  logfile::Entry e;
  bool ok = false;
  size_t used = codec.decode(out, e, ok);
  berth::fuzz::check(ok && used == out.size(), "an encoded entry does not decode whole");
  berth::fuzz::check(e.source == source, "stream changed in a round trip");
  berth::fuzz::check(e.time_nano == time_nano, "time changed in a round trip");
  berth::fuzz::check(e.text == text, "text changed in a round trip");
}

bool valid_utf8(std::string_view text) {
  try {
    (void)nlohmann::json(std::string(text)).dump();
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const auto& json_file = logfile::codec_for("json-file");
  const auto& local = logfile::codec_for("local");
  decode_all(json_file, bytes);
  decode_all(local, bytes);
  // The first byte picks the stream, the next eight the time; the rest is one line's text
  // (what the writer hands encode: at most one '\n', at its end).
  if (size >= 9) {
    auto source = data[0] & 1 ? logfile::Source::kStderr : logfile::Source::kStdout;
    int64_t t = 0;
    std::memcpy(&t, data + 1, sizeof t);
    std::string_view text = bytes.substr(9);
    if (auto nl = text.find('\n'); nl != std::string_view::npos) text = text.substr(0, nl + 1);
    round_trip(local, source, text, t);
    // json-file writes invalid UTF-8 as U+FFFD and times as RFC 3339 (from 1970 on): only
    // valid text and times after 1970 come back as they were.
    if (valid_utf8(text) && t >= 0) round_trip(json_file, source, text, t);
  }
  return 0;
}
