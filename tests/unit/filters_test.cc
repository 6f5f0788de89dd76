// Docker's `filters` query parameter in both its forms.
#include "api/filters.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace berth::api {
namespace {

const std::vector<std::string> kAllowed = {"dangling", "label", "reference", "before"};

std::string error_of(const std::string& text) {
  try {
    Filters::parse(text, kAllowed);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Filters, EmptyMatchesEverything) {
  for (const char* text : {"", "{}"}) {
    Filters f = Filters::parse(text, kAllowed);
    EXPECT_FALSE(f.has("label"));
    EXPECT_TRUE(f.get("label").empty());
    EXPECT_TRUE(f.match("reference", "anything"));
    EXPECT_TRUE(f.match_labels("label", {}));
    EXPECT_EQ(f.boolean("dangling"), std::nullopt);
  }
}

TEST(Filters, MapForm) {
  Filters f = Filters::parse(R"({"reference":{"busybox":true,"alpine:3":true}})", kAllowed);
  EXPECT_TRUE(f.has("reference"));
  EXPECT_EQ(f.get("reference"), (std::vector<std::string>{"alpine:3", "busybox"}));
  EXPECT_TRUE(f.match("reference", "busybox"));
  EXPECT_TRUE(f.match("reference", "alpine:3"));
  EXPECT_FALSE(f.match("reference", "debian"));
  // Keys that were not given match everything.
  EXPECT_TRUE(f.match("before", "x"));
}

TEST(Filters, ArrayForm) {
  Filters f = Filters::parse(R"({"reference":["busybox","alpine"],"dangling":["true"]})", kAllowed);
  EXPECT_EQ(f.get("reference"), (std::vector<std::string>{"busybox", "alpine"}));
  EXPECT_TRUE(f.match("reference", "alpine"));
  EXPECT_FALSE(f.match("reference", "debian"));
  EXPECT_EQ(f.boolean("dangling"), true);
  EXPECT_NE(error_of(R"({"reference":[1]})").find("reference"), std::string::npos);
  EXPECT_NE(error_of(R"({"reference":"busybox"})").find("reference"), std::string::npos);
}

TEST(Filters, UnknownKeyAndMalformedJsonRejected) {
  EXPECT_EQ(error_of(R"({"bogus":{"x":true}})"), "invalid filter 'bogus'");
  EXPECT_EQ(error_of(R"({"label":["a"],"bogus":["x"]})"), "invalid filter 'bogus'");
  EXPECT_NE(error_of("{not json").find("invalid filter"), std::string::npos);
  EXPECT_NE(error_of("[]").find("invalid filter"), std::string::npos);
  EXPECT_NE(error_of("\"label\"").find("invalid filter"), std::string::npos);
  EXPECT_THROW(Filters::parse(R"({"label":{"a":true}})", {}), InvalidArgument);
}

TEST(Filters, Labels) {
  Filters f = Filters::parse(R"({"label":{"maintainer":true,"env=prod":true}})", kAllowed);
  EXPECT_TRUE(f.match_labels("label", {{"maintainer", "me"}, {"env", "prod"}, {"x", "y"}}));
  EXPECT_FALSE(f.match_labels("label", {{"maintainer", "me"}, {"env", "dev"}}));
  EXPECT_FALSE(f.match_labels("label", {{"env", "prod"}}));
  EXPECT_FALSE(f.match_labels("label", {}));
  // "k=" requires the empty value; a value holding '=' is compared whole.
  f = Filters::parse(R"({"label":["empty=","url=a=b"]})", kAllowed);
  EXPECT_TRUE(f.match_labels("label", {{"empty", ""}, {"url", "a=b"}}));
  EXPECT_FALSE(f.match_labels("label", {{"empty", "x"}, {"url", "a=b"}}));
  EXPECT_FALSE(f.match_labels("label", {{"empty", ""}, {"url", "a"}}));
}

TEST(Filters, Booleans) {
  for (const char* t : {"true", "1"})
    EXPECT_EQ(Filters::parse(std::string(R"({"dangling":{")") + t + R"(":true}})", kAllowed)
                  .boolean("dangling"),
              true);
  for (const char* t : {"false", "0"})
    EXPECT_EQ(Filters::parse(std::string(R"({"dangling":[")") + t + R"("]})", kAllowed)
                  .boolean("dangling"),
              false);
  Filters bad = Filters::parse(R"({"dangling":{"maybe":true}})", kAllowed);
  try {
    bad.boolean("dangling");
    ADD_FAILURE();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "Invalid filter 'dangling=maybe'");
  }
}

}  // namespace
}  // namespace berth::api
