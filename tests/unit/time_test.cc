// RFC 3339 and Docker API timestamps.
#include "base/time.h"

#include <gtest/gtest.h>

namespace berth {
namespace {

constexpr int64_t kSec = 1000000000;
// 2023-11-14T22:13:20Z
constexpr int64_t kT = 1700000000;

TEST(Time, Rfc3339Utc) {
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20Z"), kT * kSec);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20z"), kT * kSec);
  EXPECT_EQ(parse_rfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_rfc3339("2024-02-29T00:00:00Z"), int64_t{1709164800} * kSec);
}

TEST(Time, Rfc3339Nanos) {
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.123456789Z"), kT * kSec + 123456789);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.5Z"), kT * kSec + 500000000);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.000000001Z"), kT * kSec + 1);
  // Digits beyond nanoseconds are dropped, not rounded.
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.1234567899Z"), kT * kSec + 123456789);
}

TEST(Time, Rfc3339Offsets) {
  EXPECT_EQ(parse_rfc3339("2023-11-14T23:13:20+01:00"), kT * kSec);
  EXPECT_EQ(parse_rfc3339("2023-11-14T16:43:20-05:30"), kT * kSec);
  EXPECT_EQ(parse_rfc3339("2023-11-14T22:13:20.25+00:00"), kT * kSec + 250000000);
  EXPECT_EQ(parse_rfc3339("2023-11-15T00:13:20.5+02:00"), kT * kSec + 500000000);
}

TEST(Time, Rfc3339Garbage) {
  for (const char* s : {"", "garbage", "2023-11-14", "2023-11-14T22:13:20",
                        "2023-11-14T22:13:20Zjunk", "2023-11-14T22:13:20+01",
                        "2023-11-14 22:13:20Z", "2023-11-14T22:13:20+01:00:00", "T22:13:20Z"}) {
    EXPECT_EQ(parse_rfc3339(s), std::nullopt) << s;
  }
}

TEST(Time, Rfc3339OutOfRangeFields) {
  for (const char* s : {"2023-13-01T00:00:00Z", "2023-02-30T00:00:00Z", "2023-11-14T25:00:00Z",
                        "2023-11-14T22:61:00Z"}) {
    EXPECT_FALSE(parse_rfc3339(s)) << s;
  }
}

TEST(Time, FormatRoundTrip) {
  EXPECT_EQ(format_rfc3339(kT * kSec + 5), "2023-11-14T22:13:20.000000005Z");
  EXPECT_EQ(parse_rfc3339(format_rfc3339(kT * kSec + 123)), kT * kSec + 123);
  auto now = parse_rfc3339(now_rfc3339());
  ASSERT_TRUE(now);
  EXPECT_GT(*now, kT * kSec);
}

TEST(Time, ApiTimes) {
  EXPECT_EQ(parse_api_time("123"), 123 * kSec);
  EXPECT_EQ(parse_api_time("123.5"), 123 * kSec + 500000000);
  EXPECT_EQ(parse_api_time("1700000000.000000001"), kT * kSec + 1);
  EXPECT_EQ(parse_api_time("0"), 0);
  EXPECT_EQ(parse_api_time("2023-11-14T22:13:20Z"), kT * kSec);
  EXPECT_EQ(parse_api_time("2023-11-14T23:13:20.5+01:00"), kT * kSec + 500000000);
}

TEST(Time, ApiTimeGarbage) {
  for (const char* s :
       {"", "abc", "12abc", "1.2.3", ".5", "-", "1e9", " 12", "12 ", "+5", "2023-11-14T22:13:20"}) {
    EXPECT_EQ(parse_api_time(s), std::nullopt) << s;
  }
}

}  // namespace
}  // namespace berth
