#include <gtest/gtest.h>

#include "registry/client.h"

namespace berth::registry {
namespace {

image::Descriptor manifest(const std::string& digest, const std::string& os,
                           const std::string& arch, const std::string& variant = "") {
  image::Descriptor d;
  d.media_type = image::media_type::kOciManifest;
  d.digest = digest;
  d.platform = image::Platform{os, arch, variant};
  return d;
}

TEST(RegistryClientPlatform, PicksOsAndArchitecture) {
  image::Index idx;
  idx.manifests = {manifest("sha256:a", "linux", "arm64", "v8"),
                   manifest("sha256:b", "windows", "amd64"),
                   manifest("sha256:c", "linux", "amd64")};
  auto pick = select_platform(idx, {"linux", "amd64", ""});
  ASSERT_TRUE(pick);
  EXPECT_EQ(pick->digest, "sha256:c");
  EXPECT_FALSE(select_platform(idx, {"linux", "s390x", ""}));
}

TEST(RegistryClientPlatform, VariantsExactFirst) {
  image::Index idx;
  idx.manifests = {manifest("sha256:v6", "linux", "arm", "v6"),
                   manifest("sha256:v7", "linux", "arm", "v7")};
  EXPECT_EQ(select_platform(idx, {"linux", "arm", "v7"})->digest, "sha256:v7");
  EXPECT_EQ(select_platform(idx, {"linux", "arm", "v6"})->digest, "sha256:v6");
  EXPECT_FALSE(select_platform(idx, {"linux", "arm", "v5"}));
}

TEST(RegistryClientPlatform, Arm64VariantOptional) {
  image::Index idx;
  idx.manifests = {manifest("sha256:plain", "linux", "arm64")};
  EXPECT_EQ(select_platform(idx, {"linux", "arm64", "v8"})->digest, "sha256:plain");
  image::Index v8;
  v8.manifests = {manifest("sha256:v8", "linux", "arm64", "v8")};
  EXPECT_EQ(select_platform(v8, {"linux", "arm64", ""})->digest, "sha256:v8");
}

TEST(RegistryClientPlatform, EntriesWithoutPlatformAreSkipped) {
  image::Index idx;
  image::Descriptor attestation;
  attestation.digest = "sha256:att";
  idx.manifests = {attestation, manifest("sha256:c", "linux", "amd64")};
  EXPECT_EQ(select_platform(idx, {"linux", "amd64", ""})->digest, "sha256:c");
}

TEST(RegistryClientPlatform, HostPlatformIsLinux) {
  auto p = host_platform();
  EXPECT_EQ(p.os, "linux");
  EXPECT_EQ(p.architecture, image::host_architecture());
}

}  // namespace
}  // namespace berth::registry
