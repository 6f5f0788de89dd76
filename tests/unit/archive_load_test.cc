// load_archive: docker-save archives (with the pre-25 symlinked duplicate layers) and OCI
// layouts (gzip layers, nested indexes) load with the right ids and tags; hostile and broken
// archives are refused and leave nothing behind.
#include "image/archive_load.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>

#include <fstream>
#include <typeinfo>

#include "base/error.h"
#include "image_test_util.h"

namespace berth::image {
namespace {

using namespace testutil;

class ArchiveLoadTest : public StoreFixture {
 protected:
  void SetUp() override {
    StoreFixture::SetUp();
    unique_ = fs::path(root_).filename().string();
  }
  void TearDown() override {
    std::error_code ec;
    for (auto& p : outside_) fs::remove_all(p, ec);
    StoreFixture::TearDown();
  }

  LoadResult load(const std::string& tar) { return load_archive(*store_, *content_, reader(tar)); }

  // A path outside the data root that a hostile archive aims at; removed in TearDown.
  std::string outside(const std::string& name) {
    std::string p = "/tmp/berth-outside-" + unique_ + "-" + name;
    outside_.push_back(p);
    return p;
  }

  struct Snapshot {
    std::vector<std::string> images, blobs, overlay, tags;
    bool operator==(const Snapshot&) const = default;
  };
  Snapshot snapshot() const {
    Snapshot s;
    for (auto& i : store_->list()) {
      s.images.push_back(i.id);
      s.tags.insert(s.tags.end(), i.tags.begin(), i.tags.end());
    }
    s.blobs = blobs();
    s.overlay = overlay_dirs();
    return s;
  }

  // The archive must be refused with InvalidArgument (naming `what` when given) and change
  // nothing: no image, tag, blob, layer directory or temporary blob from it stays.
  void expect_refused(const std::string& tar, const std::string& what = "") {
    // A loaded image first, so that "nothing changed" is not just "still empty".
    if (!have_base_) {
      ArchiveImage base{{make_tar({file("base", "b")})}, {"base:1"}, "base"};
      load(make_tar(docker_save_entries({base})));
      have_base_ = true;
    }
    Snapshot before = snapshot();
    std::string error;
    bool threw = false;
    try {
      load(tar);
    } catch (const InvalidArgument& e) {
      threw = true;
      error = e.what();
      if (!what.empty()) {
        EXPECT_NE(std::string(e.what()).find(what), std::string::npos) << e.what();
      }
    } catch (const std::exception& e) {
      threw = true;
      error = e.what();
      ADD_FAILURE() << "load_archive throws " << typeid(e).name()
                    << " instead of InvalidArgument: " << error;
    }
    EXPECT_TRUE(threw) << "expected a refusal" << (what.empty() ? "" : " naming " + what);
    Snapshot after = snapshot();
    EXPECT_EQ(after.images, before.images) << error;
    EXPECT_EQ(after.tags, before.tags) << error;
    EXPECT_FALSE(store_->find("evil"));
    EXPECT_EQ(after.blobs, before.blobs) << "blobs left in content/sha256 by: " << error;
    EXPECT_EQ(after.overlay, before.overlay) << "layer directories left by: " << error;
    EXPECT_TRUE(list_names(root_ + "/content/tmp").empty());
  }

  // Nothing named `name` anywhere under the data root except inside layer dirs.
  void expect_not_outside_layers(const std::string& name) {
    for (auto& e : fs::recursive_directory_iterator(root_)) {
      if (e.path().filename() != name) continue;
      std::string p = e.path().string();
      bool in_layer = p.rfind(overlay() + "/", 0) == 0 && p.find("/diff/") != std::string::npos;
      EXPECT_TRUE(in_layer) << p;
    }
  }

  // A one-image docker-save archive tagged evil:latest with this layer.
  std::string evil_archive(const std::string& layer) {
    return make_tar(docker_save_entries({ArchiveImage{{layer}, {"evil:latest"}, "evil"}}));
  }

  std::string unique_;
  std::vector<std::string> outside_;
  bool have_base_ = false;
};

TEST_F(ArchiveLoadTest, DockerSaveWithSharedLayerSymlink) {
  std::string base = make_tar({dir("etc"), file("etc/os-release", "ID=test\n")});
  std::string app = make_tar({file("app", "one")});
  std::string app2 = make_tar({file("app", "two")});
  ArchiveImage one{{base, app}, {"one:latest", "localhost:5000/one:v1"}, "one"};
  ArchiveImage two{{base, app2}, {"two"}, "two"};
  ArchiveImage untagged{{base}, {}, "untagged"};
  auto entries = docker_save_entries({one, two, untagged});
  // The layer shared by the second and third image is a symlink, as Docker < 25 writes it.
  int symlinks = 0;
  for (auto& e : entries) symlinks += e.type == AE_IFLNK;
  ASSERT_EQ(symlinks, 2);
  LoadResult r = load(make_tar(entries));
  EXPECT_EQ(r.image_ids, (std::vector<std::string>{one.id(), two.id(), untagged.id()}));
  EXPECT_EQ(r.tags,
            (std::vector<std::string>{"docker.io/library/one:latest", "localhost:5000/one:v1",
                                      "docker.io/library/two:latest"}));
  EXPECT_EQ(r.messages, (std::vector<std::string>{
                            "Loaded image: one:latest", "Loaded image: localhost:5000/one:v1",
                            "Loaded image: two:latest", "Loaded image ID: " + untagged.id()}));
  EXPECT_EQ(store_->get("one").id, one.id());
  EXPECT_EQ(store_->get("localhost:5000/one:v1").id, one.id());
  EXPECT_EQ(store_->get("two:latest").id, two.id());
  Image u = store_->get(untagged.id());
  EXPECT_TRUE(u.tags.empty());
  Image img = store_->get("one");
  ASSERT_EQ(img.chain_ids.size(), 2u);
  EXPECT_EQ(slurp(store_->layer_dir(img.chain_ids[0]) + "/etc/os-release"), "ID=test\n");
  EXPECT_EQ(slurp(store_->layer_dir(img.chain_ids[1]) + "/app"), "one");
  EXPECT_EQ(slurp(store_->layer_dir(store_->get("two").chain_ids[1]) + "/app"), "two");
  EXPECT_EQ(store_->layer_count(), 3u);
  // configs + 3 distinct layer blobs; nothing of the archive itself is kept.
  EXPECT_EQ(blobs().size(), 6u);
  EXPECT_TRUE(list_names(root_ + "/content/tmp").empty());

  // Loading again changes nothing; a tag taken from another image is reported.
  ArchiveImage newer{{base}, {"one:latest"}, "newer"};
  r = load(make_tar(docker_save_entries({newer})));
  EXPECT_EQ(store_->get("one").id, newer.id());
  EXPECT_TRUE(store_->get(one.id()).tags == std::vector<std::string>{"localhost:5000/one:v1"});
  ASSERT_EQ(r.messages.size(), 2u);
  EXPECT_EQ(r.messages[0], "The image one:latest already exists, renaming the old one with ID " +
                               one.id() + " to empty string");
}

TEST_F(ArchiveLoadTest, CompressedDockerSaveArchive) {
  ArchiveImage img{{make_tar({file("f", "data")})}, {"zipped:1"}, "z"};
  for (Filter f : {Filter::kGzip, Filter::kZstd}) {
    LoadResult r = load(make_tar(docker_save_entries({img}), f));
    EXPECT_EQ(r.image_ids, std::vector<std::string>{img.id()});
    EXPECT_EQ(store_->get("zipped:1").id, img.id());
  }
}

TEST_F(ArchiveLoadTest, OciLayoutWithGzipLayersAndNestedIndex) {
  std::string base = make_tar({dir("etc"), file("etc/os-release", "ID=oci\n")});
  ArchiveImage plain{{base, make_tar({file("a", "A")})}, {}, "plain"};
  ArchiveImage nested{{base, make_tar({file("b", "B")})}, {}, "nested"};
  ArchiveImage other_arch{{make_tar({file("c", "C")})}, {}, "other-arch"};
  std::vector<TarEntry> entries = {file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})")};
  std::string m1 = oci_manifest(plain, true, entries);
  std::string m2 = oci_manifest(nested, true, entries);
  std::string m3 = oci_manifest(other_arch, false, entries);
  std::string foreign = host_architecture() == "amd64" ? "s390x" : "amd64";
  auto with_platform = [&](const std::string& text, const std::string& arch) {
    auto d = descriptor(text, "application/vnd.oci.image.manifest.v1+json");
    d["platform"] = {{"os", "linux"}, {"architecture", arch}};
    return d;
  };
  nlohmann::json platforms_index = {
      {"schemaVersion", 2},
      {"mediaType", "application/vnd.oci.image.index.v1+json"},
      {"manifests", {with_platform(m3, foreign), with_platform(m2, host_architecture())}}};
  std::string idx_text = platforms_index.dump();
  entries.push_back(blob(idx_text));
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"manifests",
       {descriptor(m1, "application/vnd.oci.image.manifest.v1+json",
                   {{"io.containerd.image.name", "docker.io/library/plain:1.0"},
                    {"org.opencontainers.image.ref.name", "1.0"}}),
        descriptor(idx_text, "application/vnd.oci.image.index.v1+json",
                   {{"org.opencontainers.image.ref.name", "example.com/multi:2"}}),
        descriptor(m1, "application/vnd.oci.image.manifest.v1+json",
                   {{"org.opencontainers.image.ref.name", "latest"}})}}};
  entries.push_back(file("index.json", index.dump()));
  LoadResult r = load(make_tar(entries));
  EXPECT_EQ(r.image_ids, (std::vector<std::string>{plain.id(), nested.id(), plain.id()}));
  EXPECT_EQ(store_->get("plain:1.0").id, plain.id());
  // The nested index's name applies to the manifest picked for this platform.
  auto multi = store_->find("example.com/multi:2");
  ASSERT_TRUE(multi);
  EXPECT_EQ(multi->id, nested.id());
  EXPECT_FALSE(store_->find(other_arch.id()));
  // Layers are stored uncompressed under their diff ids; the gzip blobs are not kept.
  Image img = store_->get("plain:1.0");
  for (auto& d : img.config.diff_ids) EXPECT_TRUE(content_->has(d));
  EXPECT_EQ(slurp(store_->layer_dir(img.chain_ids[1]) + "/a"), "A");
  EXPECT_EQ(slurp(store_->layer_dir(store_->get(nested.id()).chain_ids[1]) + "/b"), "B");
  // plain + nested configs, base/a/b layers.
  EXPECT_EQ(blobs().size(), 5u);
}

TEST_F(ArchiveLoadTest, RefusesLayerNotMatchingConfig) {
  ArchiveImage img{{make_tar({file("f", "real")})}, {"evil:latest"}, "evil"};
  auto entries = docker_save_entries({img});
  for (auto& e : entries)
    if (e.path.ends_with("layer.tar")) e.data = make_tar({file("f", "swapped")});
  expect_refused(make_tar(entries), "diff id");
}

TEST_F(ArchiveLoadTest, RefusesBlobWhoseContentDoesNotMatchItsName) {
  ArchiveImage img{{make_tar({file("f", "x")})}, {}, "evil"};
  std::vector<TarEntry> entries;
  std::string m = oci_manifest(img, false, entries);
  for (auto& e : entries)
    if (e.data == img.layers[0]) e.data = make_tar({file("f", "tampered")});
  nlohmann::json index = {
      {"schemaVersion", 2},
      {"manifests",
       {descriptor(m, "application/vnd.oci.image.manifest.v1+json",
                   {{"io.containerd.image.name", "docker.io/library/evil:latest"}})}}};
  entries.push_back(file("index.json", index.dump()));
  expect_refused(make_tar(entries), "does not match its content");
  // Also a large blob (stored in the content store while reading, not in memory).
  std::string big(3 << 20, 'x');
  std::vector<TarEntry> e2 = entries;
  e2.push_back(file("blobs/sha256/" + hex_of(sha256_digest("other")), big));
  expect_refused(make_tar(e2), "does not match its content");
}

TEST_F(ArchiveLoadTest, RefusesArchiveWithoutManifestOrIndex) {
  expect_refused(make_tar({file("foo", "bar"), dir("blobs")}), "neither manifest.json");
}

TEST_F(ArchiveLoadTest, RefusesMalformedManifest) {
  ArchiveImage img{{make_tar({file("f", "x")})}, {"evil:latest"}, "evil"};
  auto entries = docker_save_entries({img});
  for (const char* bad :
       {"{not json", "{}", R"([{"Config": 3, "Layers": []}])", R"([{"Config": "x.json"}])",
        R"([{"Config": "missing.json", "Layers": []}])", R"([{"Config":"c","Layers":[1]}])"}) {
    auto e = entries;
    e.back() = file("manifest.json", bad);
    SCOPED_TRACE(bad);
    expect_refused(make_tar(e));
  }
  // A bad tag, and a layer missing from the archive.
  auto e = entries;
  auto j = nlohmann::json::parse(e.back().data);
  j[0]["RepoTags"] = {"UPPER:case"};
  e.back() = file("manifest.json", j.dump());
  expect_refused(make_tar(e));
  j = nlohmann::json::parse(entries.back().data);
  j[0]["Layers"] = {"nowhere/layer.tar"};
  e.back() = file("manifest.json", j.dump());
  expect_refused(make_tar(e), "missing");
  // A config listing more layers than the manifest.
  j = nlohmann::json::parse(entries.back().data);
  j[0]["Layers"] = nlohmann::json::array();
  e.back() = file("manifest.json", j.dump());
  expect_refused(make_tar(e));
}

TEST_F(ArchiveLoadTest, RefusesTruncatedAndEmptyInput) {
  ArchiveImage img{{make_tar({file("f", std::string(100000, 'x'))})}, {"evil:latest"}, "evil"};
  std::string tar = make_tar(docker_save_entries({img}));
  // Cuts inside the layer, inside manifest.json (the last member), and in the first headers.
  // (A tar cut only in its trailing zero blocks is complete; libarchive and GNU tar load it.)
  size_t manifest_data = tar.find("manifest.json") + 512;
  ASSERT_LT(manifest_data, tar.size());
  for (size_t cut : {tar.size() / 2, manifest_data + 50, size_t{700}, size_t{100}}) {
    SCOPED_TRACE(cut);
    expect_refused(tar.substr(0, cut));
  }
  std::string gz = make_tar(docker_save_entries({img}), Filter::kGzip);
  expect_refused(gz.substr(0, gz.size() / 2));
  expect_refused("");
  expect_refused(std::string(1024, '\0'));
  expect_refused("garbage that is not a tar");
  expect_refused(make_tar({}));
}

TEST_F(ArchiveLoadTest, RefusesDotDotEscape) {
  std::string target = outside("dotdot");
  std::string rel = "../../../../../../../.." + target;
  expect_refused(evil_archive(make_tar({file("ok", "fine"), file(rel, "pwned")})));
  expect_refused(evil_archive(make_tar({dir("a"), file("a/../../escape", "pwned")})));
  EXPECT_FALSE(fs::exists(target));
  expect_not_outside_layers("escape");
  // ".." in the outer archive's names.
  auto entries = docker_save_entries({ArchiveImage{{make_tar({file("f", "x")})}, {"evil"}, "e"}});
  entries.push_back(file("../../escape-outer", "x"));
  expect_refused(make_tar(entries), "leaves the archive");
}

TEST_F(ArchiveLoadTest, RefusedSecondImageLeavesFirstOut) {
  // Every image of an archive is checked before any is registered: a second image whose
  // layer the unpacker refuses must not leave the first one (or its tag) behind.
  ArchiveImage good{{make_tar({file("good", "g")})}, {"evil:good"}, "good"};
  ArchiveImage bad_img{{make_tar({file("../escape", "x")})}, {"evil:bad"}, "bad"};
  std::string tar = make_tar(docker_save_entries({good, bad_img}));
  EXPECT_THROW(load(tar), Error);
  EXPECT_FALSE(store_->find("evil:bad"));
  EXPECT_FALSE(store_->find(good.id()));
  EXPECT_FALSE(store_->find("evil:good"));
  EXPECT_TRUE(overlay_dirs().empty());
}

TEST_F(ArchiveLoadTest, AbsolutePathsStayInsideTheLayer) {
  // Docker (pkg/archive) joins absolute names to the layer root; so does berth. Either way
  // nothing may land at the absolute path itself.
  std::string target = outside("abs");
  try {
    load(evil_archive(make_tar({file(target, "pwned"), file("/abs-inside", "ok")})));
    Image img = store_->get("evil");
    EXPECT_EQ(slurp(store_->layer_dir(img.chain_ids[0]) + target), "pwned");
    EXPECT_EQ(slurp(store_->layer_dir(img.chain_ids[0]) + "/abs-inside"), "ok");
  } catch (const InvalidArgument&) {
    EXPECT_FALSE(store_->find("evil"));
  }
  EXPECT_FALSE(fs::exists(target));
}

TEST_F(ArchiveLoadTest, RefusesWriteThroughSymlinkPointingOutside) {
  std::string target = outside("symdir");
  fs::create_directories(target);
  expect_refused(evil_archive(make_tar({symlink("link", target), file("link/pwned", "x")})));
  expect_refused(
      evil_archive(make_tar({symlink("up", "../../../../../../.."), file("up" + target, "x")})));
  // The file itself a symlink, then overwritten by a regular file of the same name: the
  // link is replaced, never followed.
  std::string victim = target + "/victim";
  std::ofstream(victim) << "original";
  try {
    load(evil_archive(make_tar({symlink("v", victim), file("v", "pwned")})));
  } catch (const InvalidArgument&) {
  }
  EXPECT_EQ(slurp(victim), "original");
  EXPECT_TRUE(list_names(target) == std::vector<std::string>{"victim"});
}

TEST_F(ArchiveLoadTest, RefusesHardlinkToHostFile) {
  struct stat before;
  ASSERT_EQ(::stat("/etc/passwd", &before), 0);
  expect_refused(evil_archive(make_tar({hardlink("passwd", "/etc/passwd")})));
  expect_refused(evil_archive(make_tar({hardlink("passwd", "../../../../../../../etc/passwd")})));
  std::string target = outside("hl");
  std::ofstream(target) << "secret";
  expect_refused(evil_archive(make_tar({hardlink("x", target)})));
  // Through a symlink planted first.
  expect_refused(
      evil_archive(make_tar({symlink("etcdir", "/etc"), hardlink("passwd", "etcdir/passwd")})));
  struct stat after;
  ASSERT_EQ(::stat("/etc/passwd", &after), 0);
  EXPECT_EQ(after.st_nlink, before.st_nlink);
  struct stat t;
  ASSERT_EQ(::stat(target.c_str(), &t), 0);
  EXPECT_EQ(t.st_nlink, 1u);
}

TEST_F(ArchiveLoadTest, DeviceNodesAreNeverCreated) {
  // With an entry that escapes, the layer is refused whole.
  expect_refused(evil_archive(
      make_tar({dir("dev"), device("dev/sda", AE_IFBLK, makedev(8, 0)),
                device("../../devescape", AE_IFCHR, makedev(1, 3)), file("ok", "fine")})));
  EXPECT_FALSE(fs::exists(root_ + "/devescape"));
  EXPECT_FALSE(fs::exists(overlay() + "/devescape"));
  // Otherwise the devices are skipped (or the layer refused): none is ever created.
  std::string layer = make_tar({dir("dev"), device("dev/sda", AE_IFBLK, makedev(8, 0)),
                                device("dev/mem", AE_IFCHR, makedev(1, 1)), file("ok", "fine")});
  bool loaded = true;
  try {
    load(evil_archive(layer));
  } catch (const InvalidArgument&) {
    loaded = false;
    EXPECT_FALSE(store_->find("evil"));
  }
  for (auto& e : fs::recursive_directory_iterator(root_)) {
    struct stat st;
    ASSERT_EQ(::lstat(e.path().c_str(), &st), 0);
    EXPECT_FALSE(S_ISBLK(st.st_mode)) << e.path();
    // Character devices are only overlay whiteouts (0:0), and these layers have none.
    EXPECT_FALSE(S_ISCHR(st.st_mode)) << e.path();
  }
  if (loaded) {
    Image img = store_->get("evil");
    std::string d = store_->layer_dir(img.chain_ids[0]);
    EXPECT_EQ(slurp(d + "/ok"), "fine");
    EXPECT_FALSE(fs::exists(d + "/dev/sda"));
    EXPECT_FALSE(fs::exists(d + "/dev/mem"));
  }
}

TEST_F(ArchiveLoadTest, WhiteoutsBecomeOverlayWhiteouts) {
  std::string l1 = make_tar(
      {dir("etc"), file("etc/a", "a"), file("etc/b", "b"), dir("opt"), file("opt/x", "x")});
  std::string l2 = make_tar({whiteout("etc/a"), dir("opt"), opaque("opt"), file("opt/y", "y")});
  load(make_tar(docker_save_entries({ArchiveImage{{l1, l2}, {"wh"}, "wh"}})));
  Image img = store_->get("wh");
  std::string top = store_->layer_dir(img.chain_ids[1]);
  struct stat st;
  ASSERT_EQ(::lstat((top + "/etc/a").c_str(), &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
  EXPECT_EQ(st.st_rdev, makedev(0, 0));
  EXPECT_FALSE(fs::exists(top + "/etc/.wh.a"));
  char v[4] = {};
  EXPECT_EQ(::getxattr((top + "/opt").c_str(), "trusted.overlay.opaque", v, sizeof v), 1);
  EXPECT_EQ(v[0], 'y');
  EXPECT_FALSE(fs::exists(top + "/opt/.wh..wh..opq"));
}

TEST_F(ArchiveLoadTest, RefusesHugeSparseSizes) {
  // A GNU sparse (pax 0.1) file of 4 stored bytes whose real size is 2^62: in a layer...
  auto sparse = [](const std::string& path, uint64_t real) {
    return RawEntry{path,
                    "tail",
                    '0',
                    {{"GNU.sparse.size", std::to_string(real)},
                     {"GNU.sparse.map", std::to_string(real - 4) + ",4"}}};
  };
  std::string layer = raw_tar({RawEntry{"ok", "fine", '0', {}}, sparse("huge", uint64_t{1} << 62)});
  expect_refused(evil_archive(layer));
  // ... and as a member of the archive itself, whose holes would have to be filled in (1 TiB
  // of zeros written or held in memory).
  std::vector<RawEntry> outer;
  for (auto& e : docker_save_entries({ArchiveImage{{make_tar({file("f", "x")})}, {"evil"}, "e"}}))
    outer.push_back(RawEntry{e.path, e.data, e.type == AE_IFDIR ? '5' : '0', {}});
  outer.push_back(sparse("blobs/sha256/" + std::string(64, 'a'), uint64_t{1} << 40));
  expect_refused(raw_tar(outer));
}

}  // namespace
}  // namespace berth::image
