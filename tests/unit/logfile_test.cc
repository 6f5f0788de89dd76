// Container log files: both codecs, the drivers' options, rotation with and without
// compression, and reading back through plain and gzip rotated files.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>
#include <zlib.h>

#include <filesystem>
#include <string>
#include <vector>

#include "base/error.h"
#include "base/fs.h"
#include "logfile/codec.h"
#include "logfile/config.h"
#include "logfile/files.h"
#include "logfile/reader.h"
#include "logfile/writer.h"
#include "support/temp_dir.h"

namespace berth::logfile {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> read_all(const std::string& path, const std::string& driver,
                                  Query q = {}) {
  std::vector<std::string> out;
  read_log(
      path, codec_for(driver), q,
      [&](const Entry& e) {
        out.push_back(e.text);
        return true;
      },
      [] { return false; });
  return out;
}

std::string numbered(int i) {
  return "line " + std::to_string(i) + "\n";
}

// Writes lines 0..n-1 to a writer with the given options; the writer's destructor waits
// for its compression.
void write_lines(const std::string& path, const std::string& driver,
                 const std::map<std::string, std::string>& opts, int n) {
  Writer w(path, parse_config(driver, opts));
  for (int i = 0; i < n; i++) w.write(Source::kStdout, numbered(i));
}

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(LogCodec, JsonIsDockersLineFormat) {
  std::string out;
  codec_for("json-file").encode(Source::kStderr, "a<b>\"\n", 1700000000123456789, out);
  EXPECT_EQ(out,
            "{\"log\":\"a\\u003cb\\u003e\\\"\\n\",\"stream\":\"stderr\",\"time\":\"2023-11-14T22:"
            "13:20.123456789Z\"}\n");
  Entry e;
  bool ok = false;
  EXPECT_EQ(codec_for("json-file").decode(out, e, ok), out.size());
  EXPECT_TRUE(ok);
  EXPECT_EQ(e.text, "a<b>\"\n");
  EXPECT_EQ(e.source, Source::kStderr);
  EXPECT_EQ(e.time_nano, 1700000000123456789);
  // Without its newline the line is not complete yet.
  EXPECT_EQ(codec_for("json-file").decode(out.substr(0, out.size() - 1), e, ok), 0u);
}

TEST(LogCodec, LocalRoundTripsAndIsSmaller) {
  const Codec& c = codec_for("local");
  std::string out;
  c.encode(Source::kStdout, "hello\n", 42, out);
  c.encode(Source::kStderr, std::string(20000, 'x'), -1, out);
  std::string json;
  codec_for("json-file").encode(Source::kStdout, "hello\n", 42, json);
  Entry e;
  bool ok = false;
  size_t first = c.decode(out, e, ok);
  ASSERT_TRUE(ok);
  EXPECT_EQ(first, 6u + 17u);
  EXPECT_LT(first, json.size() / 2);
  EXPECT_EQ(e.text, "hello\n");
  EXPECT_EQ(e.time_nano, 42);
  EXPECT_EQ(c.decode(std::string_view(out).substr(first, 10), e, ok), 0u);  // incomplete
  EXPECT_EQ(c.decode(std::string_view(out).substr(first), e, ok), out.size() - first);
  EXPECT_TRUE(ok);
  EXPECT_EQ(e.source, Source::kStderr);
  EXPECT_EQ(e.text.size(), 20000u);
  EXPECT_EQ(e.time_nano, -1);
}

TEST(LogCodec, LocalSkipsACutRecord) {
  const Codec& c = codec_for("local");
  std::string a, b;
  c.encode(Source::kStdout, "first\n", 1, a);
  c.encode(Source::kStdout, "second\n", 2, b);
  // A record cut by a kill, then what the next shim appended.
  std::string data = a.substr(0, a.size() - 3) + b;
  std::vector<std::string> got;
  size_t pos = 0;
  while (pos < data.size()) {
    Entry e;
    bool ok = false;
    size_t used = c.decode(std::string_view(data).substr(pos), e, ok);
    ASSERT_GT(used, 0u);
    pos += used;
    if (ok) got.push_back(e.text);
  }
  EXPECT_EQ(got, std::vector<std::string>{"second\n"});
}

TEST(LogConfig, JsonFileAsDockerd) {
  auto c =
      parse_config("json-file", {{"max-size", "10k"}, {"max-file", "3"}, {"compress", "true"}});
  EXPECT_EQ(c.max_size, 10240);
  EXPECT_EQ(c.max_file, 3);
  EXPECT_TRUE(c.compress);
  auto d = parse_config("json-file", {});
  EXPECT_EQ(d.max_size, -1);
  EXPECT_FALSE(d.compress);
  auto fails = [](const std::string& driver, std::map<std::string, std::string> opts) {
    try {
      parse_config(driver, opts);
    } catch (const InvalidArgument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(fails("json-file", {{"max-sise", "1m"}}),
            "unknown log opt 'max-sise' for json-file log driver");
  EXPECT_EQ(fails("json-file", {{"max-size", "abc"}}), "invalid size: 'abc'");
  EXPECT_EQ(fails("json-file", {{"max-file", "x"}}), "strconv.Atoi: parsing \"x\": invalid syntax");
  EXPECT_EQ(fails("json-file", {{"max-file", "0"}}), "max-file cannot be less than 1");
  EXPECT_EQ(fails("json-file", {{"compress", "yes"}}),
            "strconv.ParseBool: parsing \"yes\": invalid syntax");
  EXPECT_EQ(fails("json-file", {{"compress", "true"}, {"max-size", "1m"}}),
            "compress cannot be true when max-file is less than 2 or max-size is not set");
  EXPECT_EQ(fails("syslogx", {}), "logger: no log driver named 'syslogx' is registered");
  EXPECT_EQ(fails("json-file", {{"mode", "fast"}}), "logger: logging mode not supported: fast");
  EXPECT_EQ(fails("local", {{"max-size", "1m"}, {"foo", "1"}}),
            "unknown log opt 'foo' for log driver local");
  EXPECT_EQ(fails("local", {{"max-size", "big"}}),
            "invalid value for max-size: big: invalid size: 'big'");
  EXPECT_EQ(fails("local", {{"max-file", "1"}}),
            "compression cannot be enabled when max file count is 1");
  EXPECT_EQ(fails("local", {{"compress", "no"}}),
            "invalid boolean value for compress: strconv.ParseBool: parsing \"no\": invalid "
            "syntax");
  auto l = parse_config("local", {});
  EXPECT_EQ(l.max_size, 20 << 20);
  EXPECT_EQ(l.max_file, 5);
  EXPECT_TRUE(l.compress);
  EXPECT_EQ(parse_config("none", {{"anything", "x"}}).driver, "none");
}

// Lines of 7 to 8 bytes as JSON are about 70 bytes: 1k files hold ~15 each.
TEST(LogFile, RotatesAndCompressesKeepingTheLastLinesInOrder) {
  for (std::string driver : {"json-file", "local"}) {
    test::TempDir dir("logfile");
    std::string path =
        dir.path() + (driver == "local" ? "/local-logs/container.log" : "/c-json.log");
    write_lines(path, driver, {{"max-size", "1k"}, {"max-file", "3"}, {"compress", "true"}}, 1000);
    auto names = names_in(path.substr(0, path.rfind('/')));
    std::string base = path.substr(path.rfind('/') + 1);
    EXPECT_EQ(names, (std::vector<std::string>{base, base + ".1.gz", base + ".2.gz"})) << driver;
    // The .gz files are gzip.
    gzFile gz = ::gzopen((path + ".2.gz").c_str(), "rb");
    ASSERT_NE(gz, nullptr);
    EXPECT_EQ(::gzdirect(gz), 0);
    ::gzclose(gz);

    auto lines = read_all(path, driver);
    ASSERT_GT(lines.size(), 10u) << driver;
    ASSERT_LT(lines.size(), 1000u) << driver;
    for (size_t i = 0; i < lines.size(); i++)
      ASSERT_EQ(lines[i], numbered(static_cast<int>(1000 - lines.size() + i))) << driver;

    Query q;
    q.tail = 5;
    EXPECT_EQ(read_all(path, driver, q),
              (std::vector<std::string>{numbered(995), numbered(996), numbered(997), numbered(998),
                                        numbered(999)}))
        << driver;
    // A tail longer than the live file reaches into the compressed ones.
    q.tail = static_cast<long>(lines.size()) - 1;
    auto tail = read_all(path, driver, q);
    EXPECT_EQ(tail, std::vector<std::string>(lines.begin() + 1, lines.end())) << driver;
    q.tail = 0;
    EXPECT_TRUE(read_all(path, driver, q).empty());
  }
}

TEST(LogFile, WithoutCompressionRotatedFilesStayPlain) {
  test::TempDir dir("logfile");
  std::string path = dir.path() + "/c-json.log";
  write_lines(path, "json-file", {{"max-size", "1k"}, {"max-file", "3"}}, 200);
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"c-json.log", "c-json.log.1", "c-json.log.2"}));
  auto lines = read_all(path, "json-file");
  EXPECT_EQ(lines.back(), numbered(199));
}

TEST(LogFile, MaxFileOneStartsOver) {
  test::TempDir dir("logfile");
  std::string path = dir.path() + "/c-json.log";
  write_lines(path, "json-file", {{"max-size", "1k"}}, 200);
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"c-json.log"});
  auto lines = read_all(path, "json-file");
  ASSERT_FALSE(lines.empty());
  EXPECT_LT(lines.size(), 20u);
  EXPECT_EQ(lines.back(), numbered(199));
}

// A shim killed while compressing leaves the plain .1 and a partial .gz: the reader takes
// the plain file and ignores the partial one; the next shim finishes the work.
TEST(LogFile, KillDuringCompressionLosesNothing) {
  test::TempDir dir("logfile");
  std::string path = dir.path() + "/c-json.log";
  write_lines(path, "json-file", {{"max-size", "1k"}, {"max-file", "3"}}, 200);
  auto before = read_all(path, "json-file");
  // As a kill mid-compression leaves it: .1 plain, its .gz half written under the temp name.
  std::string half = read_file(path + ".1").substr(0, 100);
  write_file(partial_name(path + ".1.gz"), half, O_CREAT);
  // And a kill after the rename of .2's .gz, before the plain .2 was removed.
  compress_file(path + ".2", path + ".2.gz");
  EXPECT_EQ(read_all(path, "json-file"), before);

  {
    Writer w(path, parse_config("json-file",
                                {{"max-size", "1k"}, {"max-file", "3"}, {"compress", "true"}}));
    w.write(Source::kStdout, "after\n");
  }
  EXPECT_EQ(names_in(dir.path()),
            (std::vector<std::string>{"c-json.log", "c-json.log.1.gz", "c-json.log.2.gz"}));
  auto after = read_all(path, "json-file");
  before.push_back("after\n");
  EXPECT_EQ(after, before);
}

TEST(LogFile, GapsLeftByAKillDuringRotationAreRead) {
  test::TempDir dir("logfile");
  std::string path = dir.path() + "/c-json.log";
  write_lines(path, "json-file", {{"max-size", "1k"}, {"max-file", "4"}}, 300);
  // Killed during a rotation: the oldest removed, .2 -> .3 done, .1 -> .2 not yet.
  fs::remove(path + ".3");
  auto before = read_all(path, "json-file");
  fs::rename(path + ".2", path + ".3");
  EXPECT_EQ(read_all(path, "json-file"), before);
}

TEST(LogFile, SinceUntilAndStreams) {
  test::TempDir dir("logfile");
  std::string path = dir.path() + "/c-json.log";
  {
    std::string data;
    const Codec& c = codec_for("json-file");
    for (int i = 1; i <= 5; i++)
      c.encode(i % 2 ? Source::kStdout : Source::kStderr, numbered(i), i * 1000, data);
    write_file(path, data, O_CREAT);
  }
  Query q;
  q.since_nano = 2000;
  q.until_nano = 4000;
  EXPECT_EQ(read_all(path, "json-file", q),
            (std::vector<std::string>{numbered(2), numbered(3), numbered(4)}));
  q = {};
  q.stderr = false;
  EXPECT_EQ(read_all(path, "json-file", q),
            (std::vector<std::string>{numbered(1), numbered(3), numbered(5)}));
  q.tail = 1;
  q.until_nano = 4000;
  EXPECT_EQ(read_all(path, "json-file", q), std::vector<std::string>{numbered(3)});
}

// Follow goes across rotations: what the shim wrote to the old file before renaming it, and
// then the new file, with nothing lost or doubled.
TEST(LogFile, FollowAcrossRotations) {
  for (std::string driver : {"json-file", "local"}) {
    test::TempDir dir("logfile");
    std::string path = dir.path() + "/c.log";
    Writer w(path,
             parse_config(driver, {{"max-size", "1k"}, {"max-file", "5"}, {"compress", "true"}}));
    w.write(Source::kStdout, numbered(0));
    int next = 1;
    std::vector<std::string> got;
    Query q;
    q.follow = true;
    read_log(
        path, codec_for(driver), q,
        [&](const Entry& e) {
          got.push_back(e.text);
          return true;
        },
        [&] {
          // Each time the reader waits, the "container" writes some more, now and then
          // rotating the file under the reader.
          for (int k = 0; k < 7 && next < 300; k++) w.write(Source::kStdout, numbered(next++));
          return next < 300;
        });
    ASSERT_EQ(got.size(), 300u) << driver;
    for (int i = 0; i < 300; i++) ASSERT_EQ(got[i], numbered(i)) << driver;
  }
}

// A reader held back (a slow client) while the shim rotates several times: the files that
// came meanwhile are read before the new live one.
TEST(LogFile, FollowCatchesUpOverSeveralRotations) {
  for (std::string driver : {"json-file", "local"}) {
    test::TempDir dir("logfile");
    std::string path = dir.path() + "/c.log";
    Writer w(path,
             parse_config(driver, {{"max-size", "1k"}, {"max-file", "20"}, {"compress", "true"}}));
    w.write(Source::kStdout, numbered(0));
    int next = 1;
    std::vector<std::string> got;
    Query q;
    q.follow = true;
    read_log(
        path, codec_for(driver), q,
        [&](const Entry& e) {
          got.push_back(e.text);
          // While the reader hands over one entry, the container writes enough for three
          // rotations.
          if (got.size() % 50 == 1)
            for (int k = 0; k < 60 && next < 300; k++) w.write(Source::kStdout, numbered(next++));
          return true;
        },
        [&] {
          if (next < 300) w.write(Source::kStdout, numbered(next++));
          return next < 300;
        });
    ASSERT_EQ(got.size(), 300u) << driver;
    for (int i = 0; i < 300; i++) ASSERT_EQ(got[i], numbered(i)) << driver;
  }
}

}  // namespace
}  // namespace berth::logfile
