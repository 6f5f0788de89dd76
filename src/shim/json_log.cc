#include "shim/json_log.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>

#include <cctype>
#include <cmath>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"

namespace berth::shim {
namespace {

// Docker's copier reads 16 KiB at a time and logs a line that does not fit as partial
// messages of that size.
constexpr size_t kMaxPartial = 16 * 1024;

std::string& partial_of(std::string (&partial)[2], Stream s) {
  return partial[s == Stream::kStdout ? 0 : 1];
}

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

}  // namespace

int64_t parse_size(const std::string& s) {
  size_t i = 0;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) i++;
  std::string number = s.substr(0, i), unit;
  for (char c : s.substr(i))
    if (c != ' ') unit += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  double value;
  try {
    size_t used = 0;
    value = std::stod(number, &used);
    if (used != number.size()) throw Error("");
  } catch (const std::exception&) {
    throw InvalidArgument("invalid size: '" + s + "'");
  }
  if (unit.size() > 1 && unit.back() == 'b') unit.pop_back();
  if (unit.size() > 1 && unit.back() == 'i') unit.pop_back();
  static const std::pair<const char*, double> kUnits[] = {{"", 1},
                                                          {"b", 1},
                                                          {"k", 1024.0},
                                                          {"m", 1048576.0},
                                                          {"g", 1073741824.0},
                                                          {"t", 1099511627776.0},
                                                          {"p", 1125899906842624.0}};
  for (auto& [u, mul] : kUnits)
    if (unit == u) return static_cast<int64_t>(std::floor(value * mul));
  throw InvalidArgument("invalid size: '" + s + "'");
}

JsonLogConfig parse_json_log_config(const std::string& path, const std::vector<std::string>& opts) {
  if (path.empty()) throw InvalidArgument("--log-path is required with the json-file log driver");
  JsonLogConfig c;
  c.path = path;
  for (auto& opt : opts) {
    auto eq = opt.find('=');
    std::string key = opt.substr(0, eq), value = eq == std::string::npos ? "" : opt.substr(eq + 1);
    if (key == "max-size") {
      c.max_size = parse_size(value);
      if (c.max_size <= 0) throw InvalidArgument("max-size must be a positive number");
    } else if (key == "max-file") {
      try {
        size_t used = 0;
        c.max_file = std::stoi(value, &used);
        if (used != value.size()) throw Error("");
      } catch (const std::exception&) {
        throw InvalidArgument("invalid max-file: " + value);
      }
      if (c.max_file < 1) throw InvalidArgument("max-file cannot be less than 1");
    } else if (key == "compress" || key == "labels" || key == "labels-regex" || key == "env" ||
               key == "env-regex" || key == "tag") {
      // Accepted by dockerd's json-file; they change nothing a line of ours holds.
    } else {
      throw InvalidArgument("unknown log opt '" + key + "' for json-file log driver");
    }
  }
  if (c.max_file > 1 && c.max_size < 0)
    throw InvalidArgument("max-file cannot be set without max-size");
  return c;
}

JsonLog::JsonLog(JsonLogConfig config) : config_(std::move(config)) {
  fd_ = open_or_throw(config_.path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
  struct stat st;
  if (::fstat(fd_.get(), &st) < 0) throw_errno("stat " + config_.path);
  size_ = st.st_size;
}

void JsonLog::write(Stream stream, std::string_view data) {
  std::string& partial = partial_of(partial_, stream);
  partial.append(data);
  size_t start = 0;
  for (;;) {
    size_t nl = partial.find('\n', start);
    if (nl != std::string::npos && nl - start < kMaxPartial) {
      emit(stream, std::string_view(partial).substr(start, nl + 1 - start));
      start = nl + 1;
    } else if (partial.size() - start >= kMaxPartial) {
      emit(stream, std::string_view(partial).substr(start, kMaxPartial));
      start += kMaxPartial;
    } else {
      break;
    }
  }
  partial.erase(0, start);
}

void JsonLog::flush() {
  for (Stream s : {Stream::kStdout, Stream::kStderr}) {
    std::string& partial = partial_of(partial_, s);
    if (!partial.empty()) emit(s, partial);
    partial.clear();
  }
}

void JsonLog::emit(Stream stream, std::string_view text) {
  std::string line = "{\"log\":";
  append_json_string(line, text);
  line += stream == Stream::kStdout ? ",\"stream\":\"stdout\",\"time\":\""
                                    : ",\"stream\":\"stderr\",\"time\":\"";
  line += now_rfc3339();
  line += "\"}\n";
  try {
    // As dockerd: rotate once the file has reached max-size, before the next line.
    if (config_.max_size > 0 && size_ >= config_.max_size) rotate();
    write_all(fd_.get(), line);
    size_ += static_cast<int64_t>(line.size());
  } catch (const std::exception& e) {
    // A full disk loses log lines, never the container: dockerd drops them the same way.
    log::error(std::string("json-file log: ") + e.what());
  }
}

void JsonLog::rotate() {
  // log.(n-2) -> log.(n-1), ..., log -> log.1; with max-file 1 the log just starts over.
  for (int i = config_.max_file - 1; i > 1; i--) {
    auto from = config_.path + "." + std::to_string(i - 1);
    auto to = config_.path + "." + std::to_string(i);
    if (::rename(from.c_str(), to.c_str()) < 0 && errno != ENOENT) throw_errno("rotate " + from);
  }
  if (config_.max_file > 1 && ::rename(config_.path.c_str(), (config_.path + ".1").c_str()) < 0)
    throw_errno("rotate " + config_.path);
  fd_ = open_or_throw(config_.path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
  size_ = 0;
}

}  // namespace berth::shim
