// ImageStore on a real SQLite database, content store and overlay root in a temporary dir:
// import, shared layers, tags, rmi rules, id prefixes, reopening, garbage collection.
#include "image/image_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/fs.h>
#include <sys/ioctl.h>

#include <fstream>

#include "base/error.h"
#include "image/import.h"
#include "image_test_util.h"

namespace berth::image {
namespace {

using namespace testutil;

class ImageStoreTest : public StoreFixture {
 protected:
  // Registers an image with the given layers (stored as blobs first).
  Image add(const std::vector<std::string>& layers, const std::string& salt = "",
            const std::string& parent = "") {
    std::vector<std::string> diffs;
    for (auto& l : layers) diffs.push_back(put_layer(l));
    return store_->add_image(config_json(diffs, salt), parent);
  }
  void tag(const Image& img, const std::string& ref) {
    store_->tag(img.id, parse_reference_with_default_tag(ref));
  }

  std::string base_ = make_tar({dir("etc"), file("etc/os-release", "ID=base\n")});
  std::string app_ = make_tar({dir("app"), file("app/run", "#!/bin/sh\n", 0755)});
  std::string other_ = make_tar({file("other", "x")});
};

// Where the filesystem has inode flags (ext4's), the overlay root is a "top directory": each
// layer directory starts in a block group of its own.
TEST_F(ImageStoreTest, OverlayRootSpreadsItsLayers) {
  UniqueFd fd(::open(overlay().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  ASSERT_TRUE(fd);
  int flags = 0;
  if (::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) < 0) GTEST_SKIP() << "no inode flags here";
  EXPECT_TRUE(flags & FS_TOPDIR_FL);
}

TEST_F(ImageStoreTest, ImportRootfsMakesOneLayerImage) {
  std::string tar = make_tar({dir("bin"), file("bin/hello", "hello\n", 0755),
                              symlink("bin/sh", "hello"), dir("etc"), file("etc/hostname", "h")},
                             Filter::kGzip);
  ImportOptions opts;
  opts.source = "rootfs.tar.gz";
  opts.changes = {"CMD [\"/bin/hello\"]", "ENV A=1"};
  Image img = import_rootfs(*store_, *content_, reader(tar), opts);
  ASSERT_EQ(img.chain_ids.size(), 1u);
  ASSERT_EQ(img.config.diff_ids.size(), 1u);
  EXPECT_EQ(img.id, sha256_digest(img.config_text));
  EXPECT_EQ(img.config.config["Cmd"], nlohmann::json({"/bin/hello"}));
  ASSERT_EQ(img.config.history.size(), 1u);
  EXPECT_EQ(img.config.history[0].comment, "Imported from rootfs.tar.gz");
  // The layer blob is the uncompressed tar, under its diff id.
  EXPECT_TRUE(content_->has(img.config.diff_ids[0]));
  EXPECT_EQ(content_->read(img.config.diff_ids[0]).substr(0, 3), "bin");
  std::string d = store_->layer_dir(img.chain_ids[0]);
  EXPECT_EQ(slurp(d + "/bin/hello"), "hello\n");
  EXPECT_EQ(slurp(d + "/etc/hostname"), "h");
  EXPECT_TRUE(fs::is_symlink(d + "/bin/sh"));
  EXPECT_EQ(fs::read_symlink(d + "/bin/sh"), "hello");
  EXPECT_EQ(store_->layer_dirs(img), std::vector<std::string>{d});
  EXPECT_EQ(store_->layer_count(), 1u);
  EXPECT_EQ(img.size, 6 + 1);
  EXPECT_TRUE(img.tags.empty());
  EXPECT_EQ(store_->get(img.id).id, img.id);
}

TEST_F(ImageStoreTest, ImportOfGarbageLeavesNothing) {
  ImportOptions opts;
  EXPECT_THROW(import_rootfs(*store_, *content_, reader("this is not a tar archive at all"), opts),
               InvalidArgument);
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(blobs().empty());
  EXPECT_TRUE(overlay_dirs().empty());
  opts.changes = {"FROM busybox"};
  EXPECT_THROW(import_rootfs(*store_, *content_, reader(base_), opts), InvalidArgument);
  EXPECT_TRUE(blobs().empty());
}

TEST_F(ImageStoreTest, SharedBaseLayerIsUnpackedOnceAndReleasedLast) {
  Image a = add({base_, app_}, "a");
  Image b = add({base_, other_}, "b");
  ASSERT_NE(a.id, b.id);
  ASSERT_EQ(a.chain_ids.size(), 2u);
  ASSERT_EQ(b.chain_ids.size(), 2u);
  EXPECT_EQ(a.chain_ids[0], b.chain_ids[0]);
  EXPECT_NE(a.chain_ids[1], b.chain_ids[1]);
  EXPECT_EQ(store_->layer_count(), 3u);
  EXPECT_EQ(overlay_dirs().size(), 3u);
  // Overlay lowerdir order: the top layer first.
  EXPECT_EQ(store_->layer_dirs(a), (std::vector<std::string>{store_->layer_dir(a.chain_ids[1]),
                                                             store_->layer_dir(a.chain_ids[0])}));
  std::string shared = store_->layer_dir(a.chain_ids[0]);
  // A marker in the shared layer survives the second image: it was not unpacked again.
  std::ofstream(shared + "/marker") << "x";
  Image b2 = add({base_, other_}, "b");  // idempotent
  EXPECT_EQ(b2.id, b.id);
  EXPECT_TRUE(fs::exists(shared + "/marker"));

  std::string base_diff = sha256_digest(base_);
  std::string app_diff = sha256_digest(app_);
  auto removed = store_->remove(a.id, false, true);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].deleted, a.id);
  EXPECT_FALSE(store_->find(a.id));
  EXPECT_TRUE(fs::exists(shared + "/etc/os-release"));
  EXPECT_FALSE(fs::exists(store_->layer_dir(a.chain_ids[1])));
  EXPECT_TRUE(content_->has(base_diff));
  EXPECT_FALSE(content_->has(app_diff));
  EXPECT_FALSE(content_->has(a.id));
  EXPECT_EQ(store_->layer_count(), 2u);

  store_->remove(b.id, false, true);
  EXPECT_FALSE(fs::exists(shared));
  EXPECT_TRUE(overlay_dirs().empty());
  EXPECT_TRUE(blobs().empty());
  EXPECT_EQ(store_->layer_count(), 0u);
  EXPECT_TRUE(store_->list().empty());
}

TEST_F(ImageStoreTest, TagMovesFromOneImageToAnother) {
  Image a = add({base_}, "a");
  Image b = add({base_}, "b");
  EXPECT_EQ(store_->tag(a.id, parse_reference_with_default_tag("app")), "");
  EXPECT_EQ(store_->get("app").id, a.id);
  EXPECT_EQ(store_->get("app:latest").id, a.id);
  EXPECT_EQ(store_->get("docker.io/library/app:latest").id, a.id);
  EXPECT_EQ(store_->get(a.id).tags, std::vector<std::string>{"docker.io/library/app:latest"});
  // Tagging again the same image changes nothing.
  EXPECT_EQ(store_->tag(a.id, parse_reference_with_default_tag("app")), "");
  EXPECT_EQ(store_->tag(b.id, parse_reference_with_default_tag("app:latest")), a.id);
  EXPECT_EQ(store_->get("app").id, b.id);
  EXPECT_TRUE(store_->get(a.id).tags.empty());  // dangling now, but still there
  EXPECT_EQ(store_->get(b.id).tags, std::vector<std::string>{"docker.io/library/app:latest"});
  EXPECT_THROW(store_->tag("sha256:" + std::string(64, 'f'), parse_reference("x:1")), NotFound);
}

TEST_F(ImageStoreTest, RemoveByReferenceWithSeveralTagsOnlyUntags) {
  Image a = add({base_});
  tag(a, "app:1");
  tag(a, "app:2");
  tag(a, "localhost:5000/app:1");
  auto removed = store_->remove("app:1", false, true);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].untagged, "app:1");
  EXPECT_TRUE(removed[0].deleted.empty());
  EXPECT_FALSE(store_->find("app:1"));
  EXPECT_EQ(store_->get("app:2").id, a.id);
  removed = store_->remove("localhost:5000/app:1", false, true);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].untagged, "localhost:5000/app:1");
  // The last reference deletes the image.
  removed = store_->remove("app:2", false, true);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].untagged, "app:2");
  EXPECT_EQ(removed[1].deleted, a.id);
  EXPECT_FALSE(store_->find(a.id));
  EXPECT_TRUE(blobs().empty());
  EXPECT_THROW(store_->remove("app:2", false, true), NotFound);
}

TEST_F(ImageStoreTest, RemoveByIdWithSeveralTagsNeedsForce) {
  Image a = add({base_});
  tag(a, "app:1");
  tag(a, "other:1");
  try {
    store_->remove(a.id, false, true);
    ADD_FAILURE() << "expected a conflict";
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find("referenced in multiple repositories"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(hex_of(a.id).substr(0, 12)), std::string::npos);
  }
  EXPECT_EQ(store_->get("app:1").id, a.id);
  EXPECT_EQ(store_->get("other:1").id, a.id);
  auto removed = store_->remove(hex_of(a.id).substr(0, 12), true, true);
  ASSERT_EQ(removed.size(), 3u);
  EXPECT_EQ(removed.back().deleted, a.id);
  EXPECT_FALSE(store_->find("app:1"));
  EXPECT_FALSE(store_->find("other:1"));
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(overlay_dirs().empty());
}

TEST_F(ImageStoreTest, InUseImagesAreRefusedUnlessForced) {
  Image a = add({base_});
  tag(a, "app:1");
  std::string used = a.id;
  store_->set_in_use(
      [&](const std::string& id) { return id == used ? std::string("c0ffee") : std::string(); });
  EXPECT_THROW(store_->remove("app:1", false, true), Conflict);
  EXPECT_THROW(store_->remove(a.id, false, true), Conflict);
  try {
    store_->remove(a.id, false, true);
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find("being used by container c0ffee"), std::string::npos)
        << e.what();
  }
  EXPECT_EQ(store_->get("app:1").id, a.id);
  // Forcing removes the names but keeps the image the container runs from.
  auto removed = store_->remove(a.id, true, true);
  ASSERT_EQ(removed.size(), 1u);
  EXPECT_EQ(removed[0].untagged, "app:1");
  EXPECT_TRUE(store_->find(a.id));
  EXPECT_TRUE(fs::exists(store_->layer_dir(a.chain_ids[0])));
  // Prune skips it too.
  auto [items, reclaimed] = store_->remove_unused({a.id});
  EXPECT_TRUE(items.empty());
  EXPECT_EQ(reclaimed, 0u);
  used.clear();
  std::tie(items, reclaimed) = store_->remove_unused({a.id});
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].deleted, a.id);
  EXPECT_GT(reclaimed, 0u);
  EXPECT_TRUE(overlay_dirs().empty());
}

TEST_F(ImageStoreTest, ParentWithChildrenCannotBeDeleted) {
  Image parent = add({base_}, "parent");
  Image child = add({base_, app_}, "child", parent.id);
  EXPECT_EQ(child.parent, parent.id);
  for (bool force : {false, true}) {
    try {
      store_->remove(parent.id, force, true);
      ADD_FAILURE() << "expected a conflict";
    } catch (const Conflict& e) {
      EXPECT_NE(std::string(e.what()).find("dependent child images"), std::string::npos)
          << e.what();
    }
  }
  EXPECT_TRUE(store_->find(parent.id));
  auto [items, reclaimed] = store_->remove_unused({parent.id});
  EXPECT_TRUE(items.empty());
  // Removing the child takes the untagged parent with it.
  auto removed = store_->remove(child.id, false, true);
  ASSERT_EQ(removed.size(), 2u);
  EXPECT_EQ(removed[0].deleted, child.id);
  EXPECT_EQ(removed[1].deleted, parent.id);
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(overlay_dirs().empty());
  EXPECT_TRUE(blobs().empty());
}

TEST_F(ImageStoreTest, IdPrefixesResolveWhenUnique) {
  // Find two images whose ids share a first hex digit, and one that does not.
  std::map<char, std::vector<Image>> by_first;
  for (int i = 0; i < 40 && by_first.size() < 16; i++) {
    Image img = add({base_}, "salt" + std::to_string(i));
    by_first[hex_of(img.id)[0]].push_back(img);
  }
  const Image* twin_a = nullptr;
  const Image* twin_b = nullptr;
  for (auto& [c, v] : by_first)
    if (v.size() >= 2) {
      twin_a = &v[0];
      twin_b = &v[1];
      break;
    }
  ASSERT_NE(twin_a, nullptr) << "40 random ids always share a first digit";
  auto lcp = [](const std::string& x, const std::string& y) {
    size_t n = 0;
    while (n < x.size() && x[n] == y[n]) n++;
    return n;
  };
  // The shortest prefix of `img` that no other id shares.
  auto unique_prefix = [&](const Image& img) {
    size_t longest = 0;
    for (auto& other : store_->list())
      if (other.id != img.id) longest = std::max(longest, lcp(hex_of(other.id), hex_of(img.id)));
    return hex_of(img.id).substr(0, longest + 1);
  };
  std::string ha = hex_of(twin_a->id), hb = hex_of(twin_b->id);
  size_t common = lcp(ha, hb);
  // Ambiguous: the common prefix.
  EXPECT_THROW(store_->find(ha.substr(0, common)), InvalidArgument);
  EXPECT_THROW(store_->find("sha256:" + ha.substr(0, common)), InvalidArgument);
  // Unique: the shortest unshared prefix; the full id, with and without "sha256:".
  EXPECT_EQ(store_->get(unique_prefix(*twin_a)).id, twin_a->id);
  EXPECT_EQ(store_->get(unique_prefix(*twin_b)).id, twin_b->id);
  EXPECT_EQ(store_->get("sha256:" + unique_prefix(*twin_a)).id, twin_a->id);
  EXPECT_EQ(store_->get(ha).id, twin_a->id);
  EXPECT_EQ(store_->get(twin_a->id).id, twin_a->id);
  // A prefix nothing has, and a name nothing has.
  std::string none;
  for (char c : std::string("0123456789abcdef"))
    if (!by_first.count(c)) none = std::string(1, c) + "0";
  if (!none.empty()) {
    EXPECT_FALSE(store_->find(none));
  }
  EXPECT_FALSE(store_->find("sha256:" + std::string(64, '0')));
  EXPECT_FALSE(store_->find("nosuchimage"));
  EXPECT_FALSE(store_->find(""));
  try {
    store_->get("nosuchimage");
    ADD_FAILURE();
  } catch (const NotFound& e) {
    EXPECT_STREQ(e.what(), "No such image: nosuchimage:latest");  // as Docker says
  }
}

TEST_F(ImageStoreTest, ReopeningFindsEverything) {
  Image a = add({base_, app_}, "a");
  Image b = add({base_}, "b", a.id);
  tag(a, "app:1");
  tag(a, "localhost:5000/app:1");
  tag(b, "child");
  std::vector<std::string> dirs_before = overlay_dirs();
  open();
  EXPECT_EQ(store_->list().size(), 2u);
  EXPECT_EQ(store_->layer_count(), 2u);  // b's only layer is a's base
  Image a2 = store_->get("app:1");
  EXPECT_EQ(a2.id, a.id);
  EXPECT_EQ(a2.config_text, a.config_text);
  EXPECT_EQ(a2.chain_ids, a.chain_ids);
  EXPECT_EQ(a2.size, a.size);
  EXPECT_EQ(a2.loaded, a.loaded);
  EXPECT_EQ(a2.tags, (std::vector<std::string>{"docker.io/library/app:1", "localhost:5000/app:1"}));
  Image b2 = store_->get("child:latest");
  EXPECT_EQ(b2.id, b.id);
  EXPECT_EQ(b2.parent, a.id);
  EXPECT_EQ(store_->get(hex_of(a.id).substr(0, 12)).id, a.id);
  EXPECT_EQ(overlay_dirs(), dirs_before);
  EXPECT_EQ(store_->layer_size(a.chain_ids[1]),
            static_cast<int64_t>(std::string("#!/bin/sh\n").size()));
  // The rules hold after a restart too.
  EXPECT_THROW(store_->remove(a.id, true, true), Conflict);  // has a child
  // Tags and removals made after reopening persist as well.
  store_->remove("child", false, true);
  open();
  EXPECT_FALSE(store_->find(b.id));
  EXPECT_TRUE(store_->find(a.id));
  EXPECT_EQ(store_->layer_count(), 2u);
  EXPECT_EQ(store_->get("app:1").id, a.id);
}

TEST_F(ImageStoreTest, CollectGarbageRemovesLeftoversOnly) {
  Image a = add({base_, app_});
  tag(a, "app");
  // What a crash leaves: a half-unpacked layer, an unknown layer dir, blobs nothing uses.
  std::string partial = overlay() + "/" + std::string(64, 'e') + ".partial";
  fs::create_directories(partial + "/diff/etc");
  std::ofstream(partial + "/diff/etc/x") << "x";
  std::string stray_layer = overlay() + "/" + std::string(64, 'd');
  fs::create_directories(stray_layer + "/diff");
  // A container snapshot's dir (not 64 hex) is not the image store's.
  std::string snapshot = overlay() + "/container-snapshot";
  fs::create_directories(snapshot);
  std::string orphan1 = content_->put("an orphan blob");
  std::string orphan2 = put_layer(other_);
  ASSERT_TRUE(content_->has(orphan1));

  store_->collect_garbage();

  EXPECT_FALSE(fs::exists(partial));
  EXPECT_FALSE(fs::exists(stray_layer));
  EXPECT_TRUE(fs::exists(snapshot));
  EXPECT_FALSE(content_->has(orphan1));
  EXPECT_FALSE(content_->has(orphan2));
  EXPECT_TRUE(content_->has(a.id));
  for (auto& d : a.config.diff_ids) EXPECT_TRUE(content_->has(d));
  for (auto& c : a.chain_ids) EXPECT_TRUE(fs::exists(store_->layer_dir(c) + "/."));
  EXPECT_EQ(store_->get("app").id, a.id);
  EXPECT_EQ(slurp(store_->layer_dir(a.chain_ids[0]) + "/etc/os-release"), "ID=base\n");
  // And again after a restart.
  open();
  store_->collect_garbage();
  EXPECT_EQ(blobs().size(), 3u);
  EXPECT_EQ(store_->layer_count(), 2u);
}

TEST_F(ImageStoreTest, DiscardBlobKeepsWhatIsUsedOrPinned) {
  Image a = add({base_});
  std::string stray = content_->put("stray");
  {
    auto hold = store_->pin({stray});
    store_->discard_blob(stray);
    EXPECT_TRUE(content_->has(stray));
  }
  store_->discard_blob(stray);
  EXPECT_FALSE(content_->has(stray));
  store_->discard_blob(a.id);
  store_->discard_blob(a.config.diff_ids[0]);
  EXPECT_TRUE(content_->has(a.id));
  EXPECT_TRUE(content_->has(a.config.diff_ids[0]));
}

TEST_F(ImageStoreTest, AddImageWithBadLayerLeavesNothing) {
  std::string good = put_layer(base_);
  std::string evil = put_layer(make_tar({file("../escape", "x")}));
  std::string cfg = config_json({good, evil});
  EXPECT_THROW(store_->add_image(cfg), Error);
  EXPECT_FALSE(store_->find(sha256_digest(cfg)));
  EXPECT_FALSE(fs::exists(root_ + "/escape"));
  EXPECT_FALSE(fs::exists(overlay() + "/escape"));
  // Neither the layer unpacked before the failing one nor the config blob stays.
  EXPECT_TRUE(overlay_dirs().empty());
  EXPECT_EQ(store_->layer_count(), 0u);
  EXPECT_FALSE(content_->has(sha256_digest(cfg)));
}

TEST_F(ImageStoreTest, AddImageRefusesBadConfigAndMissingLayer) {
  EXPECT_THROW(store_->add_image("{not json"), InvalidArgument);
  EXPECT_THROW(store_->add_image(R"({"rootfs":{"type":"layers","diff_ids":["nope"]}})"),
               InvalidArgument);
  std::string missing = sha256_digest("not stored");
  EXPECT_THROW(store_->add_image(config_json({missing})), NotFound);
  EXPECT_TRUE(store_->list().empty());
  EXPECT_TRUE(overlay_dirs().empty());
}

}  // namespace
}  // namespace berth::image
