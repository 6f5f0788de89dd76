#include "logfile/codec.h"

#include <nlohmann/json.hpp>

#include "base/error.h"
#include "base/time.h"

namespace berth::logfile {
namespace {

// Length of the valid UTF-8 sequence at s[i], or 0 when it is not one.
size_t utf8_length(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t len;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (size_t k = 1; k < len; k++) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  // Overlong forms, surrogates and values past U+10FFFF are invalid, as Go decodes them.
  if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
      (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return len;
}

// A JSON string as Docker's jsonlog writes it: Go's HTML-safe escaping (<, >, & as \u00XX),
// U+2028/U+2029 escaped, invalid UTF-8 bytes as U+FFFD.
void append_json_string(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out += '"';
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '"':
        case '\\':
          out += '\\';
          out += static_cast<char>(c);
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          if (c < 0x20 || c == '<' || c == '>' || c == '&') {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
          } else {
            out += static_cast<char>(c);
          }
      }
      i++;
      continue;
    }
    size_t len = utf8_length(s, i);
    if (len == 0) {
      out += "\\ufffd";
      i++;
    } else if (len == 3 && c == 0xe2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
               (static_cast<unsigned char>(s[i + 2]) & 0xfe) == 0xa8) {
      out += (s[i + 2] & 1) ? "\\u2029" : "\\u2028";
      i += 3;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  out += '"';
}

// Docker's json-file: {"log":"...","stream":"stdout","time":"..."} and a newline.
class JsonCodec final : public Codec {
 public:
  void encode(Source source, std::string_view text, int64_t time_nano,
              std::string& out) const override {
    out += "{\"log\":";
    append_json_string(out, text);
    out += source == Source::kStderr ? ",\"stream\":\"stderr\",\"time\":\""
                                     : ",\"stream\":\"stdout\",\"time\":\"";
    out += format_rfc3339(time_nano);
    out += "\"}\n";
  }

  size_t decode(std::string_view data, Entry& out, bool& ok) const override {
    size_t nl = data.find('\n');
    if (nl == std::string_view::npos) return 0;
    ok = false;
    try {
      auto j = nlohmann::json::parse(data.substr(0, nl));
      out.source = j.value("stream", "stdout") == "stderr" ? Source::kStderr : Source::kStdout;
      out.text = j.value("log", "");
      out.time_nano = parse_rfc3339(j.value("time", "")).value_or(0);
      ok = true;
    } catch (const nlohmann::json::exception&) {
      // A line cut by a crash, and the next one glued to it: dropped.
    }
    return nl + 1;
  }
};

// local: [length][source][time][text][length], numbers big-endian; the length (of source,
// time and text) at both ends lets a reader check a record and find where the next starts.
class LocalCodec final : public Codec {
 public:
  void encode(Source source, std::string_view text, int64_t time_nano,
              std::string& out) const override {
    uint32_t len = static_cast<uint32_t>(kHeader + text.size());
    put(out, len, 4);
    out += static_cast<char>(source);
    put(out, static_cast<uint64_t>(time_nano), 8);
    out += text;
    put(out, len, 4);
  }

  size_t decode(std::string_view data, Entry& out, bool& ok) const override {
    if (data.size() < 4) return 0;
    uint64_t len = get(data, 0, 4);
    uint8_t source = data.size() > 4 ? static_cast<uint8_t>(data[4]) : 1;
    // Not the start of a record: skip a byte at a time until one is found again.
    ok = false;
    if (len < kHeader || len > kMaxRecord || (source != 1 && source != 2)) return 1;
    if (data.size() < len + 8) return 0;
    if (get(data, 4 + len, 4) != len) return 1;
    out.source = static_cast<Source>(source);
    out.time_nano = static_cast<int64_t>(get(data, 5, 8));
    out.text.assign(data.substr(4 + kHeader, len - kHeader));
    ok = true;
    return len + 8;
  }

 private:
  static constexpr size_t kHeader = 1 + 8;
  // The shim logs at most 16 KiB of text per entry; anything far larger is damage.
  static constexpr size_t kMaxRecord = 1 << 20;

  static void put(std::string& out, uint64_t v, int bytes) {
    for (int i = bytes - 1; i >= 0; i--) out += static_cast<char>((v >> (8 * i)) & 0xff);
  }
  static uint64_t get(std::string_view d, size_t at, int bytes) {
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++) v = (v << 8) | static_cast<unsigned char>(d[at + i]);
    return v;
  }
};

}  // namespace

const Codec& codec_for(std::string_view driver) {
  static const JsonCodec json;
  static const LocalCodec local;
  if (driver == "json-file") return json;
  if (driver == "local") return local;
  throw InvalidArgument("log driver " + std::string(driver) + " keeps no log file");
}

}  // namespace berth::logfile
