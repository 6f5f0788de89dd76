// Docker's word processing: quotes, escapes and variable references.
#include <gtest/gtest.h>

#include <map>

#include "base/error.h"
#include "build/build.h"

namespace berth::build {
namespace {

std::optional<std::string> vars(const std::string& name) {
  static const std::map<std::string, std::string> v = {{"A", "alpha"}, {"EMPTY", ""}, {"P", "/x"}};
  auto it = v.find(name);
  if (it == v.end()) return std::nullopt;
  return it->second;
}

std::string w(const std::string& s, char escape = '\\') {
  return expand_word(s, vars, escape);
}

TEST(BuildExpand, References) {
  EXPECT_EQ(w("$A"), "alpha");
  EXPECT_EQ(w("${A}b"), "alphab");
  EXPECT_EQ(w("$Ab"), "");
  EXPECT_EQ(w("${UNSET:-def}"), "def");
  EXPECT_EQ(w("${EMPTY:-def}"), "def");
  EXPECT_EQ(w("${A:-def}"), "alpha");
  EXPECT_EQ(w("${A:+set}"), "set");
  EXPECT_EQ(w("${UNSET:+set}"), "");
  EXPECT_EQ(w("${UNSET:-$P/y}"), "/x/y");
  EXPECT_EQ(w("a$"), "a$");
  EXPECT_THROW(w("${A"), InvalidArgument);
  EXPECT_THROW(w("${UNSET:?must be set}"), InvalidArgument);
}

TEST(BuildExpand, QuotesAndEscapes) {
  EXPECT_EQ(w("'$A'"), "$A");
  EXPECT_EQ(w("\"$A b\""), "alpha b");
  EXPECT_EQ(w("\\$A"), "$A");
  EXPECT_EQ(w("\"a\\\"b\""), "a\"b");
  EXPECT_EQ(w("`$A", '`'), "$A");
  EXPECT_EQ(w("C:\\path", '`'), "C:\\path");
}

TEST(BuildExpand, Words) {
  EXPECT_EQ(expand_words("80/tcp  $A \"x y\"", vars),
            (std::vector<std::string>{"80/tcp", "alpha", "x y"}));
  EXPECT_EQ(expand_words("", vars), std::vector<std::string>{});
}

}  // namespace
}  // namespace berth::build
