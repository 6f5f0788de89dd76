// berth-registry's manifest, tag, catalog and referrers routes, driven over loopback.
#include <atomic>
#include <thread>
#include <vector>

#include "registry_server_fixture.h"

namespace berth::registry::test {
namespace {

using RegistryServerManifests = RegistryServerTest;
using nlohmann::json;

constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";

TEST_F(RegistryServerManifests, PushByTagThenGetByTagAndDigest) {
  start();
  std::string config = "{}";
  std::string cd = push_blob("app", config);
  std::string ld = push_blob("app", "layer");
  std::string manifest = image_manifest(config, cd, {{"layer", ld}}, kDockerManifest);
  std::string digest = image::sha256_digest(manifest);
  Reply put = call("PUT", "/v2/app/manifests/v1", manifest, {{"Content-Type", kDockerManifest}});
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.header("docker-content-digest"), digest);
  EXPECT_EQ(put.header("location"), "/v2/app/manifests/" + digest);
  for (std::string ref : {std::string("v1"), digest}) {
    Reply get = call("GET", "/v2/app/manifests/" + ref, "", {{"Accept", kDockerManifest}});
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, manifest);
    EXPECT_EQ(get.header("content-type"), kDockerManifest);
    EXPECT_EQ(get.header("docker-content-digest"), digest);
    Reply head = call("HEAD", "/v2/app/manifests/" + ref);
    EXPECT_EQ(head.status, 200);
    EXPECT_EQ(head.header("content-length"), std::to_string(manifest.size()));
  }
  // A client that accepts only OCI types is not handed a Docker manifest.
  Reply refused = call("GET", "/v2/app/manifests/v1", "", {{"Accept", kOciManifest}});
  EXPECT_EQ(refused.status, 404);
  EXPECT_EQ(refused.code(), "MANIFEST_UNKNOWN");
  EXPECT_EQ(call("GET", "/v2/app/manifests/v2").code(), "MANIFEST_UNKNOWN");
  EXPECT_EQ(call("GET", "/v2/nothing/manifests/v1").code(), "NAME_UNKNOWN");
}

TEST_F(RegistryServerManifests, ManifestWithMissingBlobsIsRefused) {
  start();
  std::string config = "{}";
  std::string cd = push_blob("app", config);
  std::string absent = image::sha256_digest("never pushed");
  std::string manifest = image_manifest(config, cd, {{"never pushed", absent}});
  Reply r = call("PUT", "/v2/app/manifests/latest", manifest, {{"Content-Type", kOciManifest}});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(r.json()["errors"][0]["detail"]["digest"], absent);
  EXPECT_EQ(call("GET", "/v2/app/manifests/latest").status, 404);
}

TEST_F(RegistryServerManifests, InvalidManifestsAreRefused) {
  start();
  Reply garbage = call("PUT", "/v2/app/manifests/x", "not json", {{"Content-Type", kOciManifest}});
  EXPECT_EQ(garbage.code(), "MANIFEST_INVALID");
  Reply schema1 = call("PUT", "/v2/app/manifests/x", R"({"schemaVersion":1})",
                       {{"Content-Type", "application/vnd.docker.distribution.manifest.v1+json"}});
  EXPECT_EQ(schema1.code(), "MANIFEST_INVALID");
  Reply mismatch = call(
      "PUT", "/v2/app/manifests/x",
      json{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", json::array()}}.dump(),
      {{"Content-Type", kOciManifest}});
  EXPECT_EQ(mismatch.code(), "MANIFEST_INVALID");
  std::string index =
      json{{"schemaVersion", 2}, {"mediaType", kOciIndex}, {"manifests", json::array()}}.dump();
  Reply wrong_digest = call("PUT", "/v2/app/manifests/" + image::sha256_digest("other"), index,
                            {{"Content-Type", kOciIndex}});
  EXPECT_EQ(wrong_digest.code(), "DIGEST_INVALID");
  EXPECT_EQ(call("PUT", "/v2/app/manifests/bad:tag", index).code(), "DIGEST_INVALID");
  EXPECT_EQ(call("PUT", "/v2/app/manifests/.bad", index).code(), "TAG_INVALID");
  std::string huge = json{{"schemaVersion", 2}, {"pad", std::string(5 << 20, 'x')}}.dump();
  Reply too_large = call("PUT", "/v2/app/manifests/big", huge, {{"Content-Type", kOciIndex}});
  EXPECT_EQ(too_large.status, 413);
}

TEST_F(RegistryServerManifests, IndexNeedsItsChildrenAndIsNegotiated) {
  start();
  std::string child = push_image("multi", "amd64", "layer-a");
  std::string absent = image::sha256_digest("absent manifest");
  auto index_of = [&](const std::vector<std::string>& children) {
    json m = {{"schemaVersion", 2}, {"mediaType", kDockerList}, {"manifests", json::array()}};
    for (auto& c : children)
      m["manifests"].push_back({{"mediaType", kOciManifest},
                                {"digest", c},
                                {"size", 100},
                                {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}});
    return m.dump();
  };
  Reply missing = call("PUT", "/v2/multi/manifests/latest", index_of({child, absent}),
                       {{"Content-Type", kDockerList}});
  EXPECT_EQ(missing.code(), "MANIFEST_BLOB_UNKNOWN");
  std::string index = index_of({child});
  ASSERT_EQ(
      call("PUT", "/v2/multi/manifests/latest", index, {{"Content-Type", kDockerList}}).status,
      201);
  Reply get = call("GET", "/v2/multi/manifests/latest", "",
                   {{"Accept", std::string(kDockerManifest) + ", " + kDockerList + ";q=0.9"}});
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.header("content-type"), kDockerList);
  EXPECT_EQ(call("GET", "/v2/multi/manifests/latest", "", {{"Accept", "*/*"}}).status, 200);
}

TEST_F(RegistryServerManifests, TagsAndCatalogArePaginated) {
  start();
  for (std::string tag : {"c", "a", "d", "b"}) push_image("paged/repo", tag, "layer-" + tag);
  push_image("another", "x", "layer-x");
  Reply all = call("GET", "/v2/paged/repo/tags/list");
  EXPECT_EQ(all.json(), (json{{"name", "paged/repo"}, {"tags", {"a", "b", "c", "d"}}}));
  EXPECT_EQ(all.header("link"), "");
  Reply first = call("GET", "/v2/paged/repo/tags/list?n=2");
  EXPECT_EQ(first.json()["tags"], (json{"a", "b"}));
  EXPECT_EQ(first.header("link"), "</v2/paged/repo/tags/list?last=b&n=2>; rel=\"next\"");
  Reply second = call("GET", "/v2/paged/repo/tags/list?n=2&last=b");
  EXPECT_EQ(second.json()["tags"], (json{"c", "d"}));
  EXPECT_EQ(second.header("link"), "");
  EXPECT_EQ(call("GET", "/v2/paged/repo/tags/list?n=-1").code(), "PAGINATION_NUMBER_INVALID");
  EXPECT_EQ(call("GET", "/v2/unknown/tags/list").code(), "NAME_UNKNOWN");

  EXPECT_EQ(call("GET", "/v2/_catalog").json()["repositories"], (json{"another", "paged/repo"}));
  Reply page = call("GET", "/v2/_catalog?n=1");
  EXPECT_EQ(page.json()["repositories"], (json{"another"}));
  EXPECT_EQ(page.header("link"), "</v2/_catalog?last=another&n=1>; rel=\"next\"");
  EXPECT_EQ(call("GET", "/v2/_catalog?n=1&last=another").json()["repositories"],
            (json{"paged/repo"}));
}

TEST_F(RegistryServerManifests, DeleteByDigestAndByTag) {
  config_.delete_enabled = true;
  start();
  std::string digest = push_image("app", "v1", "l1");
  call("PUT", "/v2/app/manifests/v2", call("GET", "/v2/app/manifests/v1").body,
       {{"Content-Type", kOciManifest}});
  EXPECT_EQ(call("DELETE", "/v2/app/manifests/v2").status, 202);
  EXPECT_EQ(call("GET", "/v2/app/manifests/v2").code(), "MANIFEST_UNKNOWN");
  EXPECT_EQ(call("GET", "/v2/app/manifests/v1").status, 200);
  EXPECT_EQ(call("DELETE", "/v2/app/manifests/" + digest).status, 202);
  EXPECT_EQ(call("GET", "/v2/app/manifests/v1").code(), "MANIFEST_UNKNOWN");
  EXPECT_EQ(call("GET", "/v2/app/tags/list").json()["tags"], json::array());
  EXPECT_EQ(call("DELETE", "/v2/app/manifests/" + digest).code(), "MANIFEST_UNKNOWN");
}

TEST_F(RegistryServerManifests, DeleteIsRefusedUnlessEnabled) {
  start();
  std::string digest = push_image("app", "v1", "l1");
  Reply r = call("DELETE", "/v2/app/manifests/" + digest);
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.code(), "UNSUPPORTED");
}

TEST_F(RegistryServerManifests, ReferrersListsManifestsWithASubject) {
  start();
  std::string subject = push_image("app", "v1", "l1");
  std::string empty_config = "{}";
  std::string cd = push_blob("app", empty_config);
  auto referrer = [&](const std::string& artifact_type, const std::string& note) {
    json m = {{"schemaVersion", 2},
              {"mediaType", kOciManifest},
              {"artifactType", artifact_type},
              {"config",
               {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", cd}, {"size", 2}}},
              {"layers", json::array()},
              {"subject", {{"mediaType", kOciManifest}, {"digest", subject}, {"size", 10}}},
              {"annotations", {{"note", note}}}};
    std::string body = m.dump();
    Reply r = call("PUT", "/v2/app/manifests/" + image::sha256_digest(body), body,
                   {{"Content-Type", kOciManifest}});
    EXPECT_EQ(r.status, 201) << r.body;
    EXPECT_EQ(r.header("oci-subject"), subject);
    return image::sha256_digest(body);
  };
  std::string sig = referrer("application/vnd.example.signature", "sig");
  std::string sbom = referrer("application/vnd.example.sbom", "sbom");
  Reply all = call("GET", "/v2/app/referrers/" + subject);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.header("content-type"), kOciIndex);
  EXPECT_EQ(all.json()["manifests"].size(), 2u);
  Reply filtered =
      call("GET", "/v2/app/referrers/" + subject + "?artifactType=application/vnd.example.sbom");
  EXPECT_EQ(filtered.header("oci-filters-applied"), "artifactType");
  ASSERT_EQ(filtered.json()["manifests"].size(), 1u);
  json d = filtered.json()["manifests"][0];
  EXPECT_EQ(d["digest"], sbom);
  EXPECT_EQ(d["artifactType"], "application/vnd.example.sbom");
  EXPECT_EQ(d["annotations"]["note"], "sbom");
  EXPECT_NE(sig, sbom);
  // No referrers is an empty index, never a 404; a bad digest is a 400.
  EXPECT_EQ(call("GET", "/v2/app/referrers/" + sig).json()["manifests"], json::array());
  EXPECT_EQ(call("GET", "/v2/app/referrers/sha256:nope").status, 400);
}

TEST_F(RegistryServerManifests, ConcurrentPushesOfOneTagLeaveOneOfThem) {
  start();
  std::vector<std::string> digests(6);
  for (size_t i = 0; i < digests.size(); ++i)
    digests[i] = push_image("race", "seed" + std::to_string(i), "layer" + std::to_string(i));
  std::vector<std::string> bodies;
  for (size_t i = 0; i < digests.size(); ++i)
    bodies.push_back(call("GET", "/v2/race/manifests/" + digests[i]).body);
  std::atomic<int> created{0};
  std::vector<std::thread> pushers;
  for (auto& b : bodies)
    pushers.emplace_back([&, b] {
      for (int k = 0; k < 10; ++k)
        if (call("PUT", "/v2/race/manifests/latest", b, {{"Content-Type", kOciManifest}}).status ==
            201)
          ++created;
    });
  for (auto& t : pushers) t.join();
  EXPECT_EQ(created, 60);
  Reply latest = call("GET", "/v2/race/manifests/latest");
  EXPECT_EQ(latest.status, 200);
  EXPECT_NE(std::find(digests.begin(), digests.end(), latest.header("docker-content-digest")),
            digests.end());
}

}  // namespace
}  // namespace berth::registry::test
