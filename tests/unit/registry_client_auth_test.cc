#include <gtest/gtest.h>

#include "registry/client.h"

namespace berth::registry {
namespace {

TEST(RegistryClientAuth, BearerChallengeWithQuotedScope) {
  auto c = parse_www_authenticate(
      R"(Bearer realm="https://auth.example.com/token",service="registry.example.com",)"
      R"(scope="repository:library/busybox:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.example.com/token");
  EXPECT_EQ(c[0].params["service"], "registry.example.com");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull,push");
}

TEST(RegistryClientAuth, BasicChallengeAndCase) {
  auto c = parse_www_authenticate(R"(BASIC Realm="basic-realm")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "basic-realm");
}

TEST(RegistryClientAuth, SeveralChallengesEscapesAndTokens) {
  auto c = parse_www_authenticate(
      R"(Basic realm="a \"quoted\" realm", Bearer realm=https://t/x,error="invalid_token")");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], R"(a "quoted" realm)");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "https://t/x");
  EXPECT_EQ(c[1].params["error"], "invalid_token");
}

TEST(RegistryClientAuth, EmptyAndGarbage) {
  EXPECT_TRUE(parse_www_authenticate("").empty());
  EXPECT_TRUE(parse_www_authenticate("   ,  ").empty());
  auto c = parse_www_authenticate("Negotiate");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "negotiate");
  EXPECT_TRUE(c[0].params.empty());
}

TEST(RegistryClientAuth, CredentialsEmpty) {
  EXPECT_TRUE(Credentials{}.empty());
  Credentials c;
  c.registry_token = "t";
  EXPECT_FALSE(c.empty());
}

}  // namespace
}  // namespace berth::registry
