// The CLI's tar codec (cp): what it writes, GNU tar reads back; what GNU tar writes (long
// names, ustar prefixes, pax records), it reads; fed in pieces of any size.
#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "cli/tar_stream.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace berth::cli {
namespace {

struct Read {
  std::vector<TarHeader> headers;
  std::vector<std::string> data;
};

Read read_all(const std::string& tar, size_t piece) {
  Read r;
  TarReader reader(
      [&](const TarHeader& h) {
        r.headers.push_back(h);
        r.data.emplace_back();
      },
      [&](std::string_view d) { r.data.back().append(d); });
  for (size_t i = 0; i < tar.size(); i += piece)
    reader.feed(std::string_view(tar).substr(i, piece));
  EXPECT_TRUE(reader.done());
  return r;
}

TarHeader header(const std::string& name, TarType type, uint32_t mode) {
  TarHeader h;
  h.name = name;
  h.type = type;
  h.mode = mode;
  h.mtime = 1700000000;
  return h;
}

TEST(CliTar, WritesWhatGnuTarReadsAndReadsItBack) {
  test::TempDir dir("clitar");
  std::string tar;
  TarWriter w([&](std::string_view d) { tar.append(d); });
  std::string long_name = "d/" + std::string(150, 'n') + "/file";
  w.header(header("d/", TarType::kDirectory, 0755));
  TarHeader f = header(long_name, TarType::kFile, 0640);
  f.uid = 3000000;
  f.gid = 7;
  f.size = 5;
  w.header(f);
  w.data("hel");
  w.data("lo");
  TarHeader l = header("d/link", TarType::kSymlink, 0777);
  l.link = std::string(120, 't');
  w.header(l);
  TarHeader h = header("d/hard", TarType::kHardLink, 0640);
  h.link = long_name;
  w.header(h);
  w.finish();
  EXPECT_EQ(tar.size() % 512, 0u);

  write_file(dir / "a.tar", tar, O_CREAT | O_TRUNC);
  auto listed = test::run_program({"tar", "-tvf", dir / "a.tar", "--numeric-owner"});
  ASSERT_EQ(listed.status, 0) << listed.err;
  EXPECT_NE(listed.out.find(long_name), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find("3000000/7"), std::string::npos) << listed.out;
  EXPECT_NE(listed.out.find(std::string(120, 't')), std::string::npos) << listed.out;

  for (size_t piece : {1, 7, 512, 100000}) {
    Read r = read_all(tar, piece);
    ASSERT_EQ(r.headers.size(), 4u);
    EXPECT_EQ(r.headers[1].name, long_name);
    EXPECT_EQ(r.headers[1].uid, 3000000);
    EXPECT_EQ(r.headers[1].mode, 0640u);
    EXPECT_EQ(r.data[1], "hello");
    EXPECT_EQ(r.headers[2].link, std::string(120, 't'));
    EXPECT_EQ(r.headers[3].type, TarType::kHardLink);
    EXPECT_EQ(r.headers[3].link, long_name);
  }
}

TEST(CliTar, ReadsGnuAndPaxArchives) {
  test::TempDir dir("clitar");
  std::string deep = dir / ("src/" + std::string(90, 'a') + "/" + std::string(90, 'b'));
  ASSERT_EQ(test::run_program({"mkdir", "-p", deep}).status, 0);
  write_file(deep + "/f", "content", O_CREAT | O_TRUNC);
  for (std::string format : {"gnu", "pax", "ustar"}) {
    auto made = test::run_program(
        {"tar", "--format=" + format, "-C", dir / "src", "-cf", dir / (format + ".tar"), "."});
    ASSERT_EQ(made.status, 0) << made.err;
    Read r = read_all(read_file(dir / (format + ".tar")), 4096);
    ASSERT_FALSE(r.headers.empty()) << format;
    EXPECT_EQ(r.headers.back().name,
              "./" + std::string(90, 'a') + "/" + std::string(90, 'b') + "/f")
        << format;
    EXPECT_EQ(r.data.back(), "content") << format;
  }
}

TEST(CliTar, RefusesAHeaderWithABadChecksum) {
  std::string tar;
  TarWriter w([&](std::string_view d) { tar.append(d); });
  w.header(header("f", TarType::kFile, 0644));
  w.finish();
  tar[0] = 'g';
  TarReader reader([](const TarHeader&) {}, [](std::string_view) {});
  EXPECT_THROW(reader.feed(tar), Error);
}

}  // namespace
}  // namespace berth::cli
