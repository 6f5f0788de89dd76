// A syntax check of JSON that fails in the words of Go's encoding/json decoder, which runc
// reads config.json with and whose messages callers show as they are.
#include "oci/go_json.h"

#include <cstdint>
#include <vector>

#include "base/error.h"

namespace berth::oci {
namespace {

// The character as Go's decoder quotes it: '"', '\'', 'x', '\n', '\x01'.
std::string quote_char(unsigned char c) {
  switch (c) {
    case '\'':
      return "'\\''";
    case '"':
      return "'\"'";
    case '\a':
      return "'\\a'";
    case '\b':
      return "'\\b'";
    case '\f':
      return "'\\f'";
    case '\n':
      return "'\\n'";
    case '\r':
      return "'\\r'";
    case '\t':
      return "'\\t'";
    case '\v':
      return "'\\v'";
    case '\\':
      return "'\\\\'";
  }
  static const char kHex[] = "0123456789abcdef";
  if (c < 0x20) return std::string("'\\x") + kHex[c >> 4] + kHex[c & 15] + "'";
  if (c == 0x7f) return "'\\x7f'";
  if (c < 0x80) return std::string("'") + static_cast<char>(c) + "'";
  // Go reads the byte as the code point of the same number.
  if (c < 0xa0) return std::string("'\\u00") + kHex[c >> 4] + kHex[c & 15] + "'";
  return std::string("'") + static_cast<char>(0xc0 | (c >> 6)) +
         static_cast<char>(0x80 | (c & 0x3f)) + "'";
}

[[noreturn]] void invalid(unsigned char c, const std::string& context) {
  throw Error("invalid character " + quote_char(c) + " " + context);
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_hex(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  size_t first_value() {
    skip_space();
    if (at_end()) throw Error("EOF");
    value();
    return pos_;
  }

 private:
  bool at_end() const { return pos_ >= s_.size(); }
  unsigned char peek() {
    if (at_end()) throw Error("unexpected EOF");
    return static_cast<unsigned char>(s_[pos_]);
  }
  unsigned char next() {
    unsigned char c = peek();
    pos_++;
    return c;
  }
  void skip_space() {
    while (!at_end() && is_space(s_[pos_])) pos_++;
  }

  void value() {
    skip_space();
    unsigned char c = next();
    switch (c) {
      case '{':
        return object();
      case '[':
        return array();
      case '"':
        return string();
      case 't':
        return literal("true");
      case 'f':
        return literal("false");
      case 'n':
        return literal("null");
    }
    if (c == '-' || is_digit(static_cast<char>(c))) return number(c);
    invalid(c, "looking for beginning of value");
  }

  // Go's decoder stops at this depth; here it also bounds the recursion.
  void enter() {
    if (++depth_ > 10000) throw Error("exceeded max depth");
  }

  void object() {
    enter();
    skip_space();
    if (peek() == '}') {
      pos_++;
      depth_--;
      return;
    }
    for (;;) {
      skip_space();
      unsigned char c = next();
      if (c != '"') invalid(c, "looking for beginning of object key string");
      string();
      skip_space();
      c = next();
      if (c != ':') invalid(c, "after object key");
      value();
      skip_space();
      c = next();
      if (c == '}') break;
      if (c != ',') invalid(c, "after object key:value pair");
    }
    depth_--;
  }

  void array() {
    enter();
    skip_space();
    if (peek() == ']') {
      pos_++;
      depth_--;
      return;
    }
    for (;;) {
      value();
      skip_space();
      unsigned char c = next();
      if (c == ']') break;
      if (c != ',') invalid(c, "after array element");
    }
    depth_--;
  }

  void string() {
    for (;;) {
      unsigned char c = next();
      if (c == '"') return;
      if (c < 0x20) invalid(c, "in string literal");
      if (c != '\\') continue;
      c = next();
      if (c == 'u') {
        for (int i = 0; i < 4; i++) {
          unsigned char h = next();
          if (!is_hex(static_cast<char>(h))) invalid(h, "in \\u hexadecimal character escape");
        }
      } else if (std::string_view("bfnrt\\/\"").find(static_cast<char>(c)) ==
                 std::string_view::npos) {
        invalid(c, "in string escape code");
      }
    }
  }

  void literal(std::string_view word) {
    for (size_t i = 1; i < word.size(); i++) {
      unsigned char c = next();
      if (c != word[i])
        invalid(c, "in literal " + std::string(word) + " (expecting '" + word[i] + "')");
    }
  }

  // A number ends at the first byte that cannot continue it (or at the end of the text).
  void number(unsigned char first) {
    auto more = [&] { return !at_end(); };
    auto cur = [&] { return s_[pos_]; };
    if (first == '-') {
      unsigned char c = next();
      if (!is_digit(static_cast<char>(c))) invalid(c, "in numeric literal");
      first = c;
    }
    if (first != '0')
      while (more() && is_digit(cur())) pos_++;
    if (more() && cur() == '.') {
      pos_++;
      unsigned char c = next();
      if (!is_digit(static_cast<char>(c))) invalid(c, "after decimal point in numeric literal");
      while (more() && is_digit(cur())) pos_++;
    }
    if (more() && (cur() == 'e' || cur() == 'E')) {
      pos_++;
      unsigned char c = next();
      if (c == '+' || c == '-') c = next();
      if (!is_digit(static_cast<char>(c))) invalid(c, "in exponent of numeric literal");
      while (more() && is_digit(cur())) pos_++;
    }
  }

  std::string_view s_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

size_t go_json_first_value(std::string_view text) {
  return Scanner(text).first_value();
}

}  // namespace berth::oci
