// Inputs the fuzzers of tests/fuzz found (or that were found with their binaries) to crash or
// to hit undefined behaviour, fed to the same decoders here so that the gcc suite keeps
// checking them. Each is also a seed in tests/fuzz/corpus/<target>/.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "api/container_decode.h"
#include "base/error.h"
#include "base/time.h"
#include "engine/exec.h"
#include "image/layer.h"
#include "logfile/codec.h"
#include "oci/spec.h"
#include "support/temp_dir.h"

namespace berth {
namespace {

// Refused with InvalidArgument whose message holds `words`.
template <class Fn>
void expect_invalid(Fn&& fn, const std::string& words) {
  try {
    fn();
    ADD_FAILURE() << "accepted; expected a refusal with: " << words;
  } catch (const InvalidArgument& e) {
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

engine::CreateRequest create(const std::string& body) {
  std::vector<std::string> warnings;
  return api::decode_create_request("c", body, warnings);
}

// corpus/container_create_fuzz/regress_int_field_1e300.json: an int64 field given a number
// out of int64's range was converted (undefined behaviour); Go's decoder refuses it.
TEST(FuzzRegression, CreateIntFieldOutOfRange) {
  expect_invalid([] { create(R"({"Image":"busybox","HostConfig":{"CpuShares":-1e300}})"); },
                 "into Go struct field HostConfig.CpuShares of type int64");
  expect_invalid([] { create(R"({"HostConfig":{"Memory":9223372036854775808}})"); },
                 "HostConfig.Memory of type int64");
  expect_invalid([] { create(R"({"HostConfig":{"Memory":1.5}})"); },
                 "HostConfig.Memory of type int64");
  // An integral number written as a float still fits, as before.
  EXPECT_EQ(create(R"({"HostConfig":{"Memory":1e8}})").spec.resources.memory, 100000000);
}

// corpus/container_create_fuzz/regress_tmpfs_size_1e300.json: a tmpfs mount's SizeBytes and
// Mode, nested where the field table does not look, were converted whatever they held.
TEST(FuzzRegression, CreateTmpfsOptionsOutOfRange) {
  expect_invalid(
      [] {
        create(R"({"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t",
                  "TmpfsOptions":{"SizeBytes":1e300}}]}})");
      },
      "TmpfsOptions.SizeBytes of type int64");
  expect_invalid(
      [] {
        create(R"({"HostConfig":{"Mounts":[{"Type":"tmpfs","Target":"/t",
                  "TmpfsOptions":{"Mode":-1.5}}]}})");
      },
      "TmpfsOptions.Mode of type uint32");
}

// corpus/exec_create_fuzz/regress_console_size_1e300.json: ConsoleSize [1e300, -1] was
// converted to unsigned (undefined behaviour for the first, a wrap for the second).
TEST(FuzzRegression, ExecConsoleSizeOutOfRange) {
  expect_invalid(
      [] {
        engine::decode_exec_config(
            nlohmann::json::parse(R"({"Cmd":["sh"],"ConsoleSize":[1e300,1]})"));
      },
      "ExecConfig.ConsoleSize of type uint");
  expect_invalid(
      [] {
        engine::decode_exec_config(
            nlohmann::json::parse(R"({"Cmd":["sh"],"ConsoleSize":[24,-1]})"));
      },
      "ExecConfig.ConsoleSize of type uint");
  auto r =
      engine::decode_exec_config(nlohmann::json::parse(R"({"Cmd":["sh"],"ConsoleSize":[24,80]})"));
  EXPECT_EQ(r.height, 24u);
  EXPECT_EQ(r.width, 80u);
}

// corpus/oci_spec_fuzz/regress_uid_1e300.json: config.json's integers were converted to their
// field's type whatever they held: 1e300 (undefined behaviour) or 2^32 for a gid (wrapped to 0).
TEST(FuzzRegression, OciSpecNumberOutOfRange) {
  auto spec = [](const std::string& user) {
    return R"({"ociVersion":"1.0.2","process":{"user":)" + user +
           R"(,"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}})";
  };
  auto refused = [](const std::string& text, const std::string& words) {
    try {
      oci::parse_spec(text);
      ADD_FAILURE() << "accepted: " << text;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
    }
  };
  refused(spec(R"({"uid":1e300,"gid":0})"), "process.user.uid: expected an integer");
  refused(spec(R"({"uid":0,"gid":4294967296})"), "process.user.gid: number out of range");
  EXPECT_EQ(oci::parse_spec(spec(R"({"uid":1000,"gid":4294967295})")).process->user.gid,
            4294967295u);
}

// corpus/log_record_fuzz/regress_time_year_1013 (found by log_record_fuzz): a json-file line
// whose time is in the year 1013 overflowed int64 nanoseconds (undefined behaviour) in
// parse_rfc3339. Its time is now no time; the line is still read.
TEST(FuzzRegression, LogTimeOutOfRange) {
  std::string line =
      R"({"log": "hello\n", "stream": "stdout", "time": "1013-12-07T23:00:00.123456789Z"})"
      "\n";
  logfile::Entry e;
  bool ok = false;
  EXPECT_EQ(logfile::codec_for("json-file").decode(line, e, ok), line.size());
  EXPECT_TRUE(ok);
  EXPECT_EQ(e.text, "hello\n");
  EXPECT_EQ(e.time_nano, 0);
  EXPECT_EQ(parse_rfc3339("1013-12-07T23:00:00Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:16.854775807Z"), INT64_MAX);
  EXPECT_EQ(parse_rfc3339("2262-04-11T23:47:16.854775808Z"), std::nullopt);
  EXPECT_EQ(parse_rfc3339("1678-01-01T00:00:00Z"), int64_t{-9214560000} * 1000000000);
}

// corpus/layer_fuzz/regress_gzip_no_error_message (found by layer_fuzz): a gzip header
// libarchive cannot open leaves its error message unset, and building the error from the null
// pointer crashed (berthd itself, for a pulled or loaded layer). Now an error, and no directory.
TEST(FuzzRegression, LayerGzipWithoutErrorMessage) {
  const unsigned char bytes[] = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x25, 0x00, 0x12, 0x00, 0x00,
                                 0x6b, 0x00, 0x00, 0x00, 0x00, 0x00, 0x89, 0xe8, 0x3b, 0x89};
  test::TempDir dir("fuzzlayer");
  std::string dest = dir.path() + "/layer";
  bool given = false;
  auto next = [&]() -> std::string_view {
    if (given) return {};
    given = true;
    return {reinterpret_cast<const char*>(bytes), sizeof bytes};
  };
  try {
    image::apply_layer_blocks(next, dest);
    ADD_FAILURE() << "a broken gzip stream was unpacked";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown archive error"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(std::filesystem::exists(dest));
}

}  // namespace
}  // namespace berth
