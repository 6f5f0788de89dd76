// berth-registry's version check, blob and upload routes, driven over loopback.
#include <fcntl.h>
#include <sys/stat.h>

#include <atomic>
#include <thread>
#include <vector>

#include "base/fs.h"
#include "registry_server_fixture.h"

namespace berth::registry::test {
namespace {

using RegistryServerBlobs = RegistryServerTest;

TEST_F(RegistryServerBlobs, VersionCheckAnswersWithTheApiVersionHeader) {
  start();
  Reply r = call("GET", "/v2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("docker-distribution-api-version"), "registry/2.0");
  EXPECT_EQ(r.body, "{}");
}

TEST_F(RegistryServerBlobs, MonolithicUploadThenHeadAndGet) {
  start();
  std::string digest = push_blob("library/busybox", "layer bytes");
  Reply head = call("HEAD", "/v2/library/busybox/blobs/" + digest);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("content-length"), "11");
  EXPECT_EQ(head.header("docker-content-digest"), digest);
  Reply get = call("GET", "/v2/library/busybox/blobs/" + digest);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "layer bytes");
  // Another repository does not see it until it mounts it.
  EXPECT_EQ(call("HEAD", "/v2/other/blobs/" + digest).status, 404);
  Reply missing = call("GET", "/v2/other/blobs/" + digest);
  EXPECT_EQ(missing.code(), "BLOB_UNKNOWN");
}

TEST_F(RegistryServerBlobs, RangeRequestsGetPartsOrAreRefused) {
  start();
  std::string digest = push_blob("r", "0123456789");
  Reply part = call("GET", "/v2/r/blobs/" + digest, "", {{"Range", "bytes=2-5"}});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, "2345");
  EXPECT_EQ(part.header("content-range"), "bytes 2-5/10");
  EXPECT_EQ(call("GET", "/v2/r/blobs/" + digest, "", {{"Range", "bytes=7-"}}).body, "789");
  EXPECT_EQ(call("GET", "/v2/r/blobs/" + digest, "", {{"Range", "bytes=-3"}}).body, "789");
  Reply bad = call("GET", "/v2/r/blobs/" + digest, "", {{"Range", "bytes=20-30"}});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.header("content-range"), "bytes */10");
}

TEST_F(RegistryServerBlobs, WrongDigestIsRefusedAndLeavesNothing) {
  start();
  std::string wrong = image::sha256_digest("something else");
  Reply r = call("POST", "/v2/r/blobs/uploads/?digest=" + wrong, "data");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.code(), "DIGEST_INVALID");
  EXPECT_EQ(call("HEAD", "/v2/r/blobs/" + wrong).status, 404);
  EXPECT_FALSE(path_exists(config_.root + "/blobs/sha256/" + wrong.substr(7)));
  EXPECT_TRUE(list_dir(config_.root + "/blobs/tmp").empty());
  EXPECT_EQ(call("POST", "/v2/r/blobs/uploads/?digest=sha256:abc", "x").code(), "DIGEST_INVALID");
}

TEST_F(RegistryServerBlobs, ChunkedUploadWithStatusAndOrderedChunks) {
  start();
  Reply s = call("POST", "/v2/a/b/blobs/uploads/");
  ASSERT_EQ(s.status, 202);
  std::string location = s.header("location");
  std::string uuid = s.header("docker-upload-uuid");
  EXPECT_EQ(location, "/v2/a/b/blobs/uploads/" + uuid);
  EXPECT_EQ(s.header("range"), "0-0");

  Reply p1 = call("PATCH", location, "hello ", {{"Content-Range", "0-5"}});
  EXPECT_EQ(p1.status, 202);
  EXPECT_EQ(p1.header("range"), "0-5");
  // A chunk that does not start where the upload is now is refused.
  Reply gap = call("PATCH", location, "x", {{"Content-Range", "9-9"}});
  EXPECT_EQ(gap.status, 416);
  EXPECT_EQ(gap.code(), "BLOB_UPLOAD_INVALID");
  Reply p2 = call("PATCH", location, "world");
  EXPECT_EQ(p2.header("range"), "0-10");
  Reply status = call("GET", location);
  EXPECT_EQ(status.status, 204);
  EXPECT_EQ(status.header("range"), "0-10");
  EXPECT_EQ(status.header("docker-upload-uuid"), uuid);

  std::string digest = image::sha256_digest("hello world!");
  Reply put = call("PUT", location + "?digest=" + digest, "!");
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(put.header("location"), "/v2/a/b/blobs/" + digest);
  EXPECT_EQ(put.header("docker-content-digest"), digest);
  EXPECT_EQ(call("GET", "/v2/a/b/blobs/" + digest).body, "hello world!");
  // The session is over.
  EXPECT_EQ(call("GET", location).code(), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(RegistryServerBlobs, CancelledUploadIsGone) {
  start();
  std::string location = call("POST", "/v2/r/blobs/uploads/").header("location");
  call("PATCH", location, "partial");
  EXPECT_EQ(call("DELETE", location).status, 204);
  Reply r = call("PATCH", location, "more");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.code(), "BLOB_UPLOAD_UNKNOWN");
  EXPECT_TRUE(list_dir(config_.root + "/uploads").empty());
  // Another repository cannot use the session of this one.
  std::string other = call("POST", "/v2/r/blobs/uploads/").header("location");
  std::string id = other.substr(other.rfind('/') + 1);
  EXPECT_EQ(call("GET", "/v2/s/blobs/uploads/" + id).code(), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(RegistryServerBlobs, CrossRepositoryMount) {
  start();
  std::string digest = push_blob("from/repo", "shared layer");
  Reply m = call("POST", "/v2/to/repo/blobs/uploads/?mount=" + digest + "&from=from/repo");
  EXPECT_EQ(m.status, 201);
  EXPECT_EQ(m.header("location"), "/v2/to/repo/blobs/" + digest);
  EXPECT_EQ(call("HEAD", "/v2/to/repo/blobs/" + digest).status, 200);
  // A source that lacks the blob: an ordinary upload session instead.
  std::string absent = image::sha256_digest("absent");
  Reply fallback = call("POST", "/v2/to/repo/blobs/uploads/?mount=" + absent + "&from=nowhere");
  EXPECT_EQ(fallback.status, 202);
  EXPECT_FALSE(fallback.header("docker-upload-uuid").empty());
}

TEST_F(RegistryServerBlobs, BlobDeleteNeedsDeleteEnabled) {
  start();
  std::string digest = push_blob("r", "to delete");
  Reply refused = call("DELETE", "/v2/r/blobs/" + digest);
  EXPECT_EQ(refused.status, 405);
  EXPECT_EQ(refused.code(), "UNSUPPORTED");
  stop();
  config_.delete_enabled = true;
  start();
  EXPECT_EQ(call("DELETE", "/v2/r/blobs/" + digest).status, 202);
  EXPECT_EQ(call("HEAD", "/v2/r/blobs/" + digest).status, 404);
  EXPECT_EQ(call("DELETE", "/v2/r/blobs/" + digest).code(), "BLOB_UNKNOWN");
}

TEST_F(RegistryServerBlobs, BadRepositoryNamesAreRefused) {
  start();
  for (std::string name : {"UPPER", "a/../b", "a//b", "-lead", "a__-b", "a/.hidden", "_x"}) {
    Reply r = call("POST", "/v2/" + name + "/blobs/uploads/");
    EXPECT_EQ(r.status, 400) << name;
    EXPECT_EQ(r.code(), "NAME_INVALID") << name;
  }
  EXPECT_EQ(call("POST", "/v2/a.b-c__d/e_f/blobs/uploads/").status, 202);
}

TEST_F(RegistryServerBlobs, ConcurrentPushesOfOneBlobLeaveOneWholeBlob) {
  start();
  std::string data(1 << 20, 'x');
  std::string digest = image::sha256_digest(data);
  std::atomic<int> created{0};
  std::vector<std::thread> pushers;
  for (int i = 0; i < 8; ++i)
    pushers.emplace_back([&] {
      if (call("POST", "/v2/r/blobs/uploads/?digest=" + digest, data).status == 201) ++created;
    });
  for (auto& t : pushers) t.join();
  EXPECT_EQ(created, 8);
  EXPECT_EQ(call("GET", "/v2/r/blobs/" + digest).body, data);
  EXPECT_TRUE(list_dir(config_.root + "/blobs/tmp").empty());
}

TEST_F(RegistryServerBlobs, ChunkedUploadGoesOnAfterARestart) {
  start();
  std::string location = call("POST", "/v2/r/blobs/uploads/").header("location");
  std::string id = location.substr(location.rfind('/') + 1);
  EXPECT_EQ(call("PATCH", location, "first half,", {{"Content-Range", "0-10"}}).status, 202);
  stop();
  // What a kill in the middle of the next chunk leaves: bytes past the recorded offset.
  write_file(config_.root + "/uploads/" + id + "/data", "cut chunk", O_APPEND);
  start();
  Reply status = call("GET", location);
  EXPECT_EQ(status.status, 204);
  EXPECT_EQ(status.header("range"), "0-10");
  EXPECT_EQ(call("PATCH", location, "x", {{"Content-Range", "5-5"}}).status, 416);
  EXPECT_EQ(call("PATCH", location, "second half", {{"Content-Range", "11-21"}}).header("range"),
            "0-21");
  std::string digest = image::sha256_digest("first half,second half!");
  EXPECT_EQ(call("PUT", location + "?digest=" + digest, "!").status, 201);
  EXPECT_EQ(call("GET", "/v2/r/blobs/" + digest).body, "first half,second half!");
  EXPECT_TRUE(list_dir(config_.root + "/uploads").empty());
  // Another repository's name, or a made-up id, finds no session.
  EXPECT_EQ(call("GET", "/v2/r/blobs/uploads/..").code(), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(RegistryServerBlobs, AKilledMonolithicUploadLeavesNothingAfterARestart) {
  start();
  // A partial monolithic upload is a temporary file of the content store.
  write_file(config_.root + "/blobs/tmp/blob-abcdef", "half a layer", O_CREAT);
  stop();
  start();
  EXPECT_TRUE(list_dir(config_.root + "/blobs/tmp").empty());
  EXPECT_TRUE(list_dir(config_.root + "/blobs/sha256").empty());
}

}  // namespace
}  // namespace berth::registry::test
