#include "image/content_store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "base/error.h"
#include "image/digest.h"
#include "support/temp_dir.h"

namespace berth::image {
namespace {

namespace fs = std::filesystem;

class ContentStoreTest : public ::testing::Test {
 protected:
  size_t temp_files() const {
    return static_cast<size_t>(std::distance(fs::directory_iterator(root_ + "/tmp"), {}));
  }
  test::TempDir tmp_{"content"};
  std::string root_ = tmp_.path();
};

TEST(Digest, Sha256AndValidation) {
  EXPECT_EQ(sha256_digest(""),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha256_digest("abc"),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  Sha256 h;
  h.update("a");
  h.update("bc");
  EXPECT_EQ(h.digest(), sha256_digest("abc"));
  EXPECT_TRUE(is_digest(sha256_digest("x")));
  EXPECT_FALSE(is_digest("sha256:ABC"));
  EXPECT_FALSE(is_digest("md5:" + std::string(64, 'a')));
  EXPECT_FALSE(is_digest("sha256:" + std::string(63, 'a')));
  EXPECT_THROW(check_digest("sha256:../../etc/passwd"), Error);
}

TEST_F(ContentStoreTest, PutReadAndList) {
  ContentStore cs(root_);
  auto d = cs.put("hello");
  EXPECT_EQ(d, sha256_digest("hello"));
  EXPECT_TRUE(cs.has(d));
  EXPECT_EQ(cs.read(d), "hello");
  EXPECT_EQ(cs.size(d), 5u);
  EXPECT_EQ(cs.list(), std::vector<std::string>{d});
  // Same content twice is one blob.
  EXPECT_EQ(cs.put("hello", d), d);
  cs.remove(d);
  EXPECT_FALSE(cs.has(d));
  EXPECT_NO_THROW(cs.remove(d));
  EXPECT_THROW(cs.read(d), Error);
}

TEST_F(ContentStoreTest, WrongDigestOrSizeLeavesNothing) {
  ContentStore cs(root_);
  auto wrong = sha256_digest("something else");
  try {
    cs.put("hello", wrong);
    FAIL() << "a mismatching digest must be refused";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("digest mismatch"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(cs.has(wrong));
  EXPECT_TRUE(cs.list().empty());
  EXPECT_EQ(temp_files(), 0u);

  auto w = cs.writer();
  w->write("hel");
  EXPECT_THROW(w->commit(sha256_digest("hello"), 5), Error);  // truncated
  EXPECT_EQ(temp_files(), 0u);
  EXPECT_TRUE(cs.list().empty());
}

TEST_F(ContentStoreTest, StreamingWriterAndAbandon) {
  ContentStore cs(root_);
  {
    auto w = cs.writer();
    w->write("half written");
    // Dropped without commit: as after an error or a cancelled pull.
  }
  EXPECT_EQ(temp_files(), 0u);
  auto w = cs.writer();
  for (int i = 0; i < 1000; i++) w->write("0123456789");
  auto d = w->commit();
  EXPECT_EQ(cs.size(d), 10000u);
  EXPECT_EQ(d, sha256_digest(cs.read(d)));
}

TEST_F(ContentStoreTest, BadDigestStringsAreRefused) {
  ContentStore cs(root_);
  EXPECT_THROW(cs.has("sha256:../x"), Error);
  EXPECT_THROW(cs.read("latest"), Error);
  EXPECT_THROW(cs.put("x", std::string("sha256:nothex")), Error);
}

}  // namespace
}  // namespace berth::image
