// The volume store against a real SQLite file and real directories.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <fstream>

#include "base/error.h"
#include "base/fs.h"
#include "base/sqlite.h"
#include "support/temp_dir.h"
#include "volume/volume.h"

namespace berth::volume {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(VolumeStore, CreatesOnceAndKeepsTheRecord) {
  test::TempDir dir("volstore");
  Db db(dir / "berth.db", "");
  VolumeStore store(db, dir / "volumes");
  bool created = false;
  auto v = store.create({"data", "local", {{"team", "a"}}, {}}, &created);
  EXPECT_TRUE(created);
  EXPECT_EQ(v.mountpoint, dir / "volumes/data/_data");
  EXPECT_TRUE(path_exists(v.mountpoint));
  // A second create of the same name answers the volume as it is.
  auto again = store.create({"data", "local", {}, {}}, &created);
  EXPECT_FALSE(created);
  EXPECT_EQ(again.labels.at("team"), "a");
  // A random name for an anonymous one: 64 hex digits.
  auto anon = store.create({"", "local", {{kAnonymousLabel, ""}}, {}});
  EXPECT_EQ(anon.name.size(), 64u);
  EXPECT_TRUE(anon.anonymous());
  EXPECT_EQ(store.list().size(), 2u);
  store.remove("data");
  EXPECT_FALSE(store.find("data"));
  EXPECT_FALSE(path_exists(dir / "volumes/data"));
  EXPECT_EQ(error_of([&] { store.get("data"); }), "get data: no such volume");
}

TEST(VolumeStore, RefusesBadNamesAndOptionsInDockersWords) {
  test::TempDir dir("volstore");
  Db db(dir / "berth.db", "");
  VolumeStore store(db, dir / "volumes");
  EXPECT_EQ(error_of([&] {
              store.create({"a/b", "local", {}, {}});
            }),
            "create a/b: \"a/b\" includes invalid characters for a local volume name, only "
            "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
            "directory, use absolute path");
  EXPECT_EQ(error_of([&] {
              store.create({"x", "local", {}, {}});
            }),
            "create x: volume name is too short, names should be at least two alphanumeric "
            "characters");
  EXPECT_EQ(error_of([&] {
              store.create({"ok", "local", {}, {{"colour", "red"}}});
            }),
            "create ok: invalid option: \"colour\"");
  EXPECT_EQ(error_of([&] {
              store.create({"ok", "local", {}, {{"type", "tmpfs"}}});
            }),
            "create ok: missing required option: \"device\"");
  EXPECT_EQ(error_of([&] {
              store.create({"ok", "nfs-plugin", {}, {}});
            }),
            "create ok: error looking up volume plugin nfs-plugin: plugin \"nfs-plugin\" not "
            "found");
  try {
    store.create({"a b", "local", {}, {}});
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_EQ(kind_of(e), ErrorKind::kInvalidArgument);
  }
  // Nothing of the refused ones was left behind.
  EXPECT_TRUE(store.list().empty());
  EXPECT_TRUE(list_dir(dir / "volumes").empty());
}

TEST(VolumeStore, DataWithoutARecordGoesAtTheNextStart) {
  test::TempDir dir("volstore");
  {
    Db db(dir / "berth.db", "");
    VolumeStore store(db, dir / "volumes");
    store.create({"kept", "local", {}, {}});
  }
  // What a kill -9 between a remove's record and its data leaves.
  mkdir_p(dir / "volumes/half-removed/_data");
  write_file(dir / "volumes/half-removed/_data/f", "x", O_CREAT | O_TRUNC);
  Db db(dir / "berth.db", "");
  VolumeStore store(db, dir / "volumes");
  EXPECT_FALSE(path_exists(dir / "volumes/half-removed"));
  EXPECT_TRUE(path_exists(dir / "volumes/kept/_data"));
  // A record whose directory was never made gets it when used.
  remove_all(dir / "volumes/kept");
  EXPECT_EQ(store.mount(store.get("kept")), dir / "volumes/kept/_data");
  EXPECT_TRUE(path_exists(dir / "volumes/kept/_data"));
}

TEST(VolumeStore, TmpfsOptionsMountWhileUsed) {
  test::TempDir dir("volstore");
  Db db(dir / "berth.db", "");
  VolumeStore store(db, dir / "volumes");
  auto v = store.create(
      {"scratch", "local", {}, {{"type", "tmpfs"}, {"device", "tmpfs"}, {"o", "size=1m,noexec"}}});
  EXPECT_EQ(store.size(v), -1);
  auto path = store.mount(v);
  struct statfs fs;
  ASSERT_EQ(::statfs(path.c_str(), &fs), 0);
  EXPECT_EQ(fs.f_type, 0x01021994);  // TMPFS_MAGIC
  EXPECT_EQ(fs.f_blocks * fs.f_bsize, 1u << 20);
  store.mount(v);  // made once
  store.unmount(v);
  EXPECT_FALSE(is_mountpoint(path));
  store.mount(v);
  store.remove("scratch");
  EXPECT_FALSE(path_exists(path));
}

}  // namespace
}  // namespace berth::volume
