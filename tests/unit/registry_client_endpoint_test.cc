#include <gtest/gtest.h>

#include "oci/reference.h"
#include "registry/client.h"

namespace berth::registry {
namespace {

Endpoint of(const std::string& ref, const Options& opts = {}) {
  return endpoint_for(oci::parse_reference(ref).domain, opts);
}

TEST(RegistryClientEndpoint, DockerHubNames) {
  EXPECT_EQ(of("busybox").host, "registry-1.docker.io");
  EXPECT_TRUE(of("busybox").secure);
  EXPECT_EQ(of("index.docker.io/library/busybox").host, "registry-1.docker.io");
  EXPECT_EQ(endpoint_for("", {}).host, "registry-1.docker.io");
  EXPECT_EQ(of("busybox").base_url(), "https://registry-1.docker.io");
}

TEST(RegistryClientEndpoint, LoopbackIsInsecureByDefault) {
  EXPECT_EQ(of("localhost:5000/app").base_url(), "http://localhost:5000");
  EXPECT_EQ(of("127.0.0.1:5000/app").base_url(), "http://127.0.0.1:5000");
  EXPECT_EQ(of("127.1.2.3:80/app").base_url(), "http://127.1.2.3:80");
  EXPECT_EQ(of("[::1]:5000/app").base_url(), "http://[::1]:5000");
  EXPECT_EQ(of("registry.example.com:5000/app").base_url(), "https://registry.example.com:5000");
  EXPECT_EQ(of("10.1.2.3:5000/app").base_url(), "https://10.1.2.3:5000");
}

TEST(RegistryClientEndpoint, InsecureRegistriesByHostAndCidr) {
  Options opts{{"registry.example.com:5000", "10.0.0.0/8", "plain.example"}};
  EXPECT_FALSE(of("registry.example.com:5000/app", opts).secure);
  EXPECT_TRUE(of("registry.example.com:5001/app", opts).secure);
  EXPECT_FALSE(of("10.1.2.3:5000/app", opts).secure);
  EXPECT_TRUE(of("11.1.2.3:5000/app", opts).secure);
  EXPECT_FALSE(of("plain.example/app", opts).secure);
}

TEST(RegistryClientEndpoint, LoginAddresses) {
  // docker login takes a URL; only its host counts.
  EXPECT_EQ(endpoint_for("https://127.0.0.1:5000/v2/", {}).base_url(), "http://127.0.0.1:5000");
  EXPECT_EQ(endpoint_for("https://index.docker.io/v1/", {}).host, "registry-1.docker.io");
  EXPECT_EQ(endpoint_for("registry.example.com", {}).base_url(), "https://registry.example.com");
}

}  // namespace
}  // namespace berth::registry
