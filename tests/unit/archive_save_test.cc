// plan_save and write_save: the tar is both a docker-save archive and an OCI layout, and
// loading it into a fresh store gives back the same images, tags and layers.
#include "image/archive_save.h"

#include <gtest/gtest.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "base/error.h"
#include "image/archive_load.h"
#include "image_test_util.h"

namespace berth::image {
namespace {

using namespace testutil;

// The regular files of a tar, by name.
std::map<std::string, std::string> untar(const std::string& tar) {
  std::map<std::string, std::string> out;
  std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
  archive_read_support_format_tar(a.get());
  EXPECT_EQ(archive_read_open_memory(a.get(), tar.data(), tar.size()), ARCHIVE_OK);
  archive_entry* e;
  while (archive_read_next_header(a.get(), &e) == ARCHIVE_OK) {
    if (archive_entry_filetype(e) != AE_IFREG) continue;
    std::string data(static_cast<size_t>(archive_entry_size(e)), '\0');
    if (!data.empty()) archive_read_data(a.get(), data.data(), data.size());
    out[archive_entry_pathname(e)] = data;
  }
  return out;
}

class ArchiveSaveTest : public StoreFixture {
 protected:
  void TearDown() override {
    store2_.reset();
    content2_.reset();
    db2_.reset();
    StoreFixture::TearDown();
  }
  void open_second() {
    db2_ = std::make_unique<Db>(root2_ + "/berth.db", "");
    content2_ = std::make_unique<ContentStore>(root2_ + "/content");
    store2_ = std::make_unique<ImageStore>(*db2_, *content2_, root2_ + "/overlay");
  }
  std::string save(const std::vector<std::string>& names) {
    auto plan = plan_save(*store_, names);
    std::string out;
    write_save(*content_, plan, [&](std::string_view d) { out.append(d); });
    return out;
  }
  Image add(const std::vector<std::string>& layers, const std::string& salt) {
    std::vector<std::string> diffs;
    for (auto& l : layers) diffs.push_back(put_layer(l));
    return store_->add_image(config_json(diffs, salt));
  }
  void tag(const Image& img, const std::string& ref) {
    store_->tag(img.id, parse_reference_with_default_tag(ref));
  }

  test::TempDir dir2_{"imgtest2"};
  std::string root2_ = dir2_.path();
  std::unique_ptr<Db> db2_;
  std::unique_ptr<ContentStore> content2_;
  std::unique_ptr<ImageStore> store2_;
  std::string base_ = make_tar(
      {dir("etc"), file("etc/os-release", "ID=saved\n"), symlink("etc/link", "os-release")});
};

TEST_F(ArchiveSaveTest, SaveThenLoadGivesTheSameImages) {
  Image a = add({base_, make_tar({file("a", "A")})}, "a");
  Image b = add({base_, make_tar({file("b", "B")})}, "b");
  Image c = add({base_}, "c");
  tag(a, "app:1");
  tag(a, "localhost:5000/app:1");
  tag(b, "bee");
  std::string tar = save({"app:1", "localhost:5000/app:1", "bee", c.id});

  auto files = untar(tar);
  for (const char* f : {"manifest.json", "index.json", "oci-layout", "repositories"})
    EXPECT_TRUE(files.count(f)) << f;
  EXPECT_EQ(nlohmann::json::parse(files["oci-layout"])["imageLayoutVersion"], "1.0.0");
  for (auto* img : {&a, &b, &c}) {
    EXPECT_EQ(files["blobs/sha256/" + hex_of(img->id)], img->config_text);
    for (auto& d : img->config.diff_ids) EXPECT_TRUE(files.count("blobs/sha256/" + hex_of(d)));
  }
  // Every blob holds what its name says.
  for (auto& [name, data] : files) {
    if (name.rfind("blobs/sha256/", 0) == 0) {
      EXPECT_EQ(hex_of(sha256_digest(data)), name.substr(13));
    }
  }
  auto manifest = nlohmann::json::parse(files["manifest.json"]);
  ASSERT_EQ(manifest.size(), 3u);
  EXPECT_EQ(manifest[0]["Config"], "blobs/sha256/" + hex_of(a.id));
  EXPECT_EQ(manifest[0]["RepoTags"], nlohmann::json({"app:1", "localhost:5000/app:1"}));
  EXPECT_EQ(manifest[0]["Layers"].size(), 2u);
  EXPECT_EQ(manifest[1]["RepoTags"], nlohmann::json({"bee:latest"}));
  EXPECT_TRUE(manifest[2]["RepoTags"].is_null());
  auto index = nlohmann::json::parse(files["index.json"]);
  EXPECT_EQ(index["manifests"].size(), 4u);  // one per tag, one for the untagged image
  EXPECT_EQ(index["manifests"][0]["annotations"]["io.containerd.image.name"],
            "docker.io/library/app:1");
  // The same images give the same bytes.
  EXPECT_EQ(save({"app:1", "localhost:5000/app:1", "bee", c.id}), tar);

  open_second();
  LoadResult r = load_archive(*store2_, *content2_, reader(tar));
  EXPECT_EQ(r.image_ids.size(), 3u);
  for (auto* img : {&a, &b, &c}) {
    Image got = store2_->get(img->id);
    EXPECT_EQ(got.config_text, img->config_text);
    EXPECT_EQ(got.chain_ids, img->chain_ids);
    EXPECT_EQ(got.size, img->size);
    EXPECT_EQ(got.tags, store_->get(img->id).tags);
  }
  EXPECT_EQ(store2_->get("app:1").id, a.id);
  EXPECT_EQ(store2_->get("localhost:5000/app:1").id, a.id);
  EXPECT_EQ(store2_->get("bee").id, b.id);
  EXPECT_TRUE(store2_->get(c.id).tags.empty());
  EXPECT_EQ(store2_->layer_count(), store_->layer_count());
  std::string d2 = store2_->layer_dir(a.chain_ids[0]);
  EXPECT_EQ(slurp(d2 + "/etc/os-release"), "ID=saved\n");
  EXPECT_EQ(fs::read_symlink(d2 + "/etc/link"), "os-release");
  EXPECT_EQ(slurp(store2_->layer_dir(a.chain_ids[1]) + "/a"), "A");
  EXPECT_EQ(slurp(store2_->layer_dir(b.chain_ids[1]) + "/b"), "B");
  EXPECT_EQ(list_names(root2_ + "/content/sha256"), blobs());
}

TEST_F(ArchiveSaveTest, ArchiveLoadsAsOciLayoutAlone) {
  // Without manifest.json the same archive loads from index.json.
  Image a = add({base_}, "a");
  tag(a, "oci:only");
  std::string tar = save({"oci:only"});
  auto files = untar(tar);
  std::vector<TarEntry> entries;
  for (auto& [name, data] : files)
    if (name != "manifest.json" && name != "repositories") entries.push_back(file(name, data));
  open_second();
  LoadResult r = load_archive(*store2_, *content2_, reader(make_tar(entries)));
  EXPECT_EQ(r.image_ids, std::vector<std::string>{a.id});
  EXPECT_EQ(store2_->get("oci:only").id, a.id);
}

TEST_F(ArchiveSaveTest, RepositoryWithoutTagSavesAllItsTags) {
  Image a = add({base_}, "a");
  Image b = add({base_}, "b");
  Image other = add({base_}, "other");
  tag(a, "repo:1");
  tag(a, "repo:2");
  tag(b, "repo:3");
  tag(other, "repository:1");
  tag(other, "example.com/repo:1");
  auto plan = plan_save(*store_, {"repo"});
  ASSERT_EQ(plan.size(), 2u);
  std::map<std::string, std::vector<std::string>> got;
  for (auto& e : plan) got[e.image.id] = e.tags;
  EXPECT_EQ(got[a.id],
            (std::vector<std::string>{"docker.io/library/repo:1", "docker.io/library/repo:2"}));
  EXPECT_EQ(got[b.id], std::vector<std::string>{"docker.io/library/repo:3"});
  // With :latest missing, "repo:latest" is not found even though the repository exists.
  EXPECT_THROW(plan_save(*store_, {"repo:latest"}), NotFound);
  // A tag named twice, or an image named by tag and by id, is saved once.
  plan = plan_save(*store_, {"repo:1", "repo:1", a.id});
  ASSERT_EQ(plan.size(), 1u);
  EXPECT_EQ(plan[0].tags, std::vector<std::string>{"docker.io/library/repo:1"});
}

TEST_F(ArchiveSaveTest, MissingNameThrowsBeforeAnyByte) {
  Image a = add({base_}, "a");
  tag(a, "present");
  size_t bytes = 0;
  auto attempt = [&](const std::vector<std::string>& names) {
    auto plan = plan_save(*store_, names);
    write_save(*content_, plan, [&](std::string_view d) { bytes += d.size(); });
  };
  try {
    attempt({"present", "absent"});
    ADD_FAILURE();
  } catch (const NotFound& e) {
    EXPECT_STREQ(e.what(), "No such image: absent");
  }
  EXPECT_THROW(attempt({"absent:1"}), NotFound);
  EXPECT_THROW(attempt({"sha256:" + std::string(64, 'a')}), NotFound);
  EXPECT_THROW(attempt({}), InvalidArgument);
  EXPECT_EQ(bytes, 0u);
}

TEST_F(ArchiveSaveTest, SinkFailureIsReported) {
  Image a = add({base_}, "a");
  auto plan = plan_save(*store_, {a.id});
  size_t calls = 0;
#if defined(__SANITIZE_ADDRESS__)
  // libarchive 3.6.2 leaks 33 bytes when archive_write_free follows a failed write (the same
  // happens in a C program of a dozen lines); the archive itself is freed.
  __lsan::ScopedDisabler libarchive_leaks_on_error;
#endif
  EXPECT_THROW(write_save(*content_, plan,
                          [&](std::string_view) {
                            if (++calls > 1) throw Error("client went away");
                          }),
               Error);
}

}  // namespace
}  // namespace berth::image
