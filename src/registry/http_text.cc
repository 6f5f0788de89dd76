#include "registry/http_text.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>

namespace berth::registry {

std::string base64_encode(std::string_view in) {
  std::string out(4 * ((in.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text, bool url) {
  std::string in(text);
  if (url) {
    for (auto& c : in) c = c == '-' ? '+' : c == '_' ? '/' : c;
    if (in.find('=') != std::string::npos) return std::nullopt;
    while (in.size() % 4) in += '=';
  }
  if (in.size() % 4 != 0) return std::nullopt;
  if (in.empty()) return std::string();
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) return std::nullopt;
  // EVP_DecodeBlock counts the padding's zero bytes in.
  size_t pad = in.size() - in.find_last_not_of('=') - 1;
  out.resize(static_cast<size_t>(n) - std::min<size_t>(pad, 2));
  return out;
}

std::string query_escape(const std::string& s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

// WWW-Authenticate as RFC 7235 has it: challenges of a scheme and its auth-params, where a
// quoted value may hold commas and escaped quotes (a token service's scope often does).
namespace {

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool is_token_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

class Scanner {
 public:
  explicit Scanner(std::string_view s) : s_(s) {}
  void skip_space() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t')) i_++;
  }
  bool done() const { return i_ >= s_.size(); }
  char peek() const { return done() ? '\0' : s_[i_]; }
  void advance() { i_++; }
  size_t pos() const { return i_; }
  void seek(size_t p) { i_ = p; }
  std::string token() {
    size_t start = i_;
    while (i_ < s_.size() && is_token_char(s_[i_])) i_++;
    return std::string(s_.substr(start, i_ - start));
  }
  // An unquoted value: a token by the RFC, but registries put URLs there unquoted too.
  std::string bare() {
    size_t start = i_;
    while (i_ < s_.size() && s_[i_] != ',' && s_[i_] != ' ' && s_[i_] != '\t') i_++;
    return std::string(s_.substr(start, i_ - start));
  }
  std::string quoted() {
    std::string out;
    advance();  // the opening quote
    while (!done() && peek() != '"') {
      if (peek() == '\\' && i_ + 1 < s_.size()) advance();
      out += peek();
      advance();
    }
    if (!done()) advance();
    return out;
  }

 private:
  std::string_view s_;
  size_t i_ = 0;
};

}  // namespace

std::vector<Challenge> parse_www_authenticate(std::string_view header) {
  std::vector<Challenge> out;
  Scanner sc(header);
  while (true) {
    sc.skip_space();
    while (sc.peek() == ',') {
      sc.advance();
      sc.skip_space();
    }
    if (sc.done()) break;
    std::string scheme = sc.token();
    if (scheme.empty()) break;  // not a challenge: what was read so far stands
    Challenge c{lower(scheme), {}};
    // auth-params until the next challenge (a token followed by space, not by '=').
    while (true) {
      sc.skip_space();
      while (sc.peek() == ',') {
        sc.advance();
        sc.skip_space();
      }
      size_t mark = sc.pos();
      std::string name = sc.token();
      sc.skip_space();
      if (name.empty() || sc.peek() != '=') {
        sc.seek(mark);
        break;
      }
      sc.advance();
      sc.skip_space();
      std::string value = sc.peek() == '"' ? sc.quoted() : sc.bare();
      c.params[lower(name)] = value;
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace berth::registry
