#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "cli/config.h"
#include "cli/tabwriter.h"
#include "cli/units.h"
#include "client/client.h"
#include "oci/reference.h"

namespace berth::cli {
namespace {

TEST(CliUnits, HumanSizeMatchesGoUnits) {
  EXPECT_EQ(human_size(0), "0B");
  EXPECT_EQ(human_size(999), "999B");
  EXPECT_EQ(human_size(1000), "1kB");
  EXPECT_EQ(human_size(4270000, 3), "4.27MB");
  EXPECT_EQ(human_size(1234567, 3), "1.23MB");
  EXPECT_EQ(human_size(1234567), "1.235MB");
  EXPECT_EQ(human_size(1.23e9, 3), "1.23GB");
  EXPECT_EQ(human_size(4261574, 3), "4.26MB");
  EXPECT_EQ(bytes_size(8346370048.0), "7.773GiB");
}

TEST(CliUnits, HumanDurationMatchesGoUnits) {
  const int64_t s = 1000000000;
  EXPECT_EQ(human_duration(s / 2), "Less than a second");
  EXPECT_EQ(human_duration(s), "1 second");
  EXPECT_EQ(human_duration(59 * s), "59 seconds");
  EXPECT_EQ(human_duration(60 * s), "About a minute");
  EXPECT_EQ(human_duration(59 * 60 * s), "59 minutes");
  EXPECT_EQ(human_duration(3600 * s), "About an hour");
  EXPECT_EQ(human_duration(2 * 3600 * s), "2 hours");
  EXPECT_EQ(human_duration(47 * 3600 * s), "47 hours");
  EXPECT_EQ(human_duration(3 * 86400 * s), "3 days");
  EXPECT_EQ(human_duration(15 * 86400 * s), "2 weeks");
  EXPECT_EQ(human_duration(90 * 86400 * s), "3 months");
  EXPECT_EQ(human_duration(800 * 86400 * s), "2 years");
  EXPECT_EQ(time_ago(0), "N/A");
}

TEST(CliUnits, TimesInUtc) {
  setenv("TZ", "UTC", 1);
  tzset();
  EXPECT_EQ(rfc3339_nano_fixed(1795564800000000123), "2026-11-25T00:00:00.000000123Z");
  EXPECT_EQ(go_time_string(0 + 86400), "1970-01-02 00:00:00 +0000 UTC");
  EXPECT_EQ(rfc3339(86400), "1970-01-02T00:00:00Z");
  EXPECT_EQ(api_timestamp("1700000000.5", 0), "1700000000.5");
  EXPECT_EQ(api_timestamp("10m", 3600000000000), "3000.000000000");
  EXPECT_EQ(api_timestamp("1970-01-02T00:00:00Z", 0), "86400");
  EXPECT_EQ(api_timestamp("1970-01-02T01:00:00+01:00", 0), "86400");
  EXPECT_EQ(api_timestamp("1970-01-02", 0), "86400");
  EXPECT_THROW(api_timestamp("yesterday", 0), Error);
}

TEST(CliTabwriter, AlignsLikeGo) {
  TabwriterOptions o{.minwidth = 0, .padding = 3};
  EXPECT_EQ(tabwrite("a\tbb\tc\nccc\td\te\n", o), "a     bb   c\nccc   d    e\n");
  // The last cell of a line is not part of a column.
  EXPECT_EQ(tabwrite("x\tlonglonglong\ny\tz\n", o), "x   longlonglong\ny   z\n");
  // A line with fewer cells ends the column block for the columns it lacks.
  EXPECT_EQ(tabwrite("a\tb\tc\nno tabs\naaaa\tb\tc\n", o), "a   b   c\nno tabs\naaaa   b   c\n");
  EXPECT_EQ(tabwrite("é\tx\nab\ty\n", o), "é    x\nab   y\n");
  EXPECT_EQ(tabwrite("TAG\tX\nlatest\tY\n", {.minwidth = 10, .padding = 3}),
            "TAG       X\nlatest    Y\n");
  EXPECT_EQ(tabwrite("", o), "");
}

TEST(CliHost, ResolutionOrder) {
  using client::GetEnv, client::resolve_host, client::socket_path_of;
  std::map<std::string, std::string> env;
  GetEnv get = [&env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    return it == env.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  EXPECT_EQ(resolve_host("", get), "unix:///run/berth/berth.sock");
  env["DOCKER_HOST"] = "unix:///d.sock";
  EXPECT_EQ(resolve_host("", get), "unix:///d.sock");
  env["BERTH_HOST"] = "unix:///b.sock";
  EXPECT_EQ(resolve_host("", get), "unix:///b.sock");
  EXPECT_EQ(resolve_host("unix:///flag.sock", get), "unix:///flag.sock");
  EXPECT_EQ(socket_path_of("unix:///run/x.sock"), "/run/x.sock");
  EXPECT_THROW(socket_path_of("tcp://1.2.3.4:2375"), Error);
  env["HOME"] = "/home/u";
  EXPECT_EQ(resolve_config_dir("", get), "/home/u/.berth");
  EXPECT_EQ(resolve_config_dir("/c", get), "/c");
}

TEST(CliApi, QueryFiltersAndVersions) {
  using client::Query, client::filters_json, client::negotiate_version, client::path_escape;
  EXPECT_EQ(Query().add("names", "a b").add("x", "1/2").encode(), "?names=a%20b&x=1%2F2");
  EXPECT_EQ(Query().encode(), "");
  EXPECT_EQ(filters_json({"dangling=true", "label=a=b", "label=c"}),
            R"({"dangling":{"true":true},"label":{"a=b":true,"c":true}})");
  EXPECT_THROW(filters_json({"dangling"}), Error);
  EXPECT_EQ(negotiate_version("1.44", "1.45"), "1.44");
  EXPECT_EQ(negotiate_version("1.44", "1.41"), "1.41");
  EXPECT_EQ(negotiate_version("1.44", "1.100"), "1.44");
  EXPECT_EQ(path_escape("localhost:5000/a b@sha256:x"), "localhost:5000/a%20b@sha256:x");
}

// The CLI's uses of the one parser: normalized names for the API, familiar ones for people.
TEST(CliReference, NormalizesLikeDocker) {
  using oci::parse_reference;
  EXPECT_EQ(parse_reference("busybox").name(), "docker.io/library/busybox");
  EXPECT_EQ(parse_reference("busybox:1.36").tag, "1.36");
  EXPECT_EQ(parse_reference("me/app:v1").name(), "docker.io/me/app");
  EXPECT_EQ(parse_reference("localhost:5000/app").name(), "localhost:5000/app");
  EXPECT_EQ(parse_reference("localhost:5000/app").tag, "");
  EXPECT_THROW(parse_reference("Busybox"), Error);
  EXPECT_THROW(parse_reference("a:b:c"), Error);
  EXPECT_EQ(parse_reference("docker.io/library/busybox").familiar_name(), "busybox");
  EXPECT_EQ(parse_reference("docker.io/me/app").familiar_name(), "me/app");
  EXPECT_EQ(truncate_id("sha256:0123456789abcdef"), "0123456789ab");
}

}  // namespace
}  // namespace berth::cli
