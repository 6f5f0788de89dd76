// Docker's word processing for Dockerfile arguments: quotes, the escape character and
// variable references.
#include <cctype>

#include "base/error.h"
#include "build/build.h"

namespace berth::build {
namespace {

class Lexer {
 public:
  Lexer(std::string_view s, const Lookup& lookup, char escape)
      : s_(s), lookup_(lookup), escape_(escape) {}

  // A here-document's text: only `$` is special; quotes stay, and an escaped character stays
  // escaped (BuildKit's raw quotes and escapes).
  std::string raw() {
    std::string out;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (c == escape_ && i_ + 1 < s_.size()) {
        out += c;
        out += s_[i_ + 1];
        i_ += 2;
      } else if (c == '$') {
        out += dollar();
      } else {
        out += c;
        i_++;
      }
    }
    return out;
  }

  // Words split on unquoted white space; `split` false gives one word.
  std::vector<std::string> run(bool split) {
    std::vector<std::string> out;
    std::string cur;
    bool in_word = false;
    while (i_ < s_.size()) {
      char c = s_[i_];
      if (split && std::isspace(static_cast<unsigned char>(c))) {
        if (in_word) out.push_back(cur);
        cur.clear();
        in_word = false;
        i_++;
        continue;
      }
      in_word = true;
      if (c == '\'') {
        i_++;
        while (i_ < s_.size() && s_[i_] != '\'') cur += s_[i_++];
        if (i_ >= s_.size())
          throw InvalidArgument(
              "unexpected end of statement while looking for matching single-quote");
        i_++;
      } else if (c == '"') {
        i_++;
        while (i_ < s_.size() && s_[i_] != '"') {
          char d = s_[i_];
          if (d == escape_ && i_ + 1 < s_.size()) {
            char n = s_[i_ + 1];
            // Inside double quotes the escape only escapes what would be special there.
            if (n == '"' || n == '$' || n == escape_) {
              cur += n;
              i_ += 2;
              continue;
            }
            cur += d;
            i_++;
          } else if (d == '$') {
            cur += dollar();
          } else {
            cur += d;
            i_++;
          }
        }
        if (i_ >= s_.size())
          throw InvalidArgument(
              "unexpected end of statement while looking for matching double-quote");
        i_++;
      } else if (c == escape_) {
        i_++;
        if (i_ < s_.size()) cur += s_[i_++];
      } else if (c == '$') {
        cur += dollar();
      } else {
        cur += c;
        i_++;
      }
    }
    if (in_word || !split) out.push_back(cur);
    return out;
  }

 private:
  static bool name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

  std::string value(const std::string& name) {
    auto v = lookup_(name);
    return v ? *v : "";
  }

  // At a '$': the variable's value, or the '$' itself when no name follows.
  std::string dollar() {
    i_++;
    if (i_ >= s_.size()) return "$";
    if (s_[i_] == '{') {
      i_++;
      std::string name;
      while (i_ < s_.size() && name_char(s_[i_])) name += s_[i_++];
      if (i_ >= s_.size()) throw InvalidArgument("missing '}' in variable reference");
      if (s_[i_] == '}') {
        i_++;
        return value(name);
      }
      if (s_[i_] != ':')
        throw InvalidArgument("unsupported modifier (" + std::string(1, s_[i_]) +
                              ") in substitution");
      i_++;
      if (i_ >= s_.size()) throw InvalidArgument("missing '}' in variable reference");
      char mod = s_[i_++];
      if (mod != '-' && mod != '+' && mod != '?')
        throw InvalidArgument("unsupported modifier (" + std::string(1, mod) + ") in substitution");
      // The word runs to the matching '}', itself processed.
      std::string word;
      int depth = 1;
      while (i_ < s_.size()) {
        char c = s_[i_];
        if (c == escape_ && i_ + 1 < s_.size()) {
          word += c;
          word += s_[i_ + 1];
          i_ += 2;
          continue;
        }
        if (c == '{') depth++;
        if (c == '}' && --depth == 0) break;
        word += c;
        i_++;
      }
      if (i_ >= s_.size()) throw InvalidArgument("missing '}' in variable reference");
      i_++;
      auto v = lookup_(name);
      bool set = v && !v->empty();
      std::string w = Lexer(word, lookup_, escape_).run(false).front();
      if (mod == '-') return set ? *v : w;
      if (mod == '+') return set ? w : "";
      if (!set) throw InvalidArgument(name + ": " + (w.empty() ? "is not allowed to be unset" : w));
      return *v;
    }
    std::string name;
    while (i_ < s_.size() && name_char(s_[i_])) name += s_[i_++];
    if (name.empty()) return "$";
    return value(name);
  }

  std::string_view s_;
  const Lookup& lookup_;
  char escape_;
  size_t i_ = 0;
};

}  // namespace

std::string expand_word(std::string_view word, const Lookup& lookup, char escape) {
  return Lexer(word, lookup, escape).run(false).front();
}

std::string expand_heredoc(std::string_view text, const Lookup& lookup, char escape) {
  return Lexer(text, lookup, escape).raw();
}

std::vector<std::string> expand_words(std::string_view text, const Lookup& lookup, char escape) {
  return Lexer(text, lookup, escape).run(true);
}

}  // namespace berth::build
