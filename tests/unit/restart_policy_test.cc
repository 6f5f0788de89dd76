// Docker's restart policies: which exits restart a container, and after how long.
#include "engine/restart_policy.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace berth::engine {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

TEST(RestartPolicy, ParsesDockersNamesAndRefusesOthersInItsWords) {
  EXPECT_EQ(parse_restart_policy("", 0).kind, RestartPolicy::Kind::kNo);
  EXPECT_EQ(parse_restart_policy("unless-stopped", 0).kind, RestartPolicy::Kind::kUnlessStopped);
  EXPECT_EQ(parse_restart_policy("on-failure", 3).max_retries, 3);
  try {
    parse_restart_policy("sometimes", 0);
    FAIL() << "sometimes was taken";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "invalid restart policy 'sometimes'");
  }
  try {
    parse_restart_policy("always", 2);
    FAIL() << "a retry count with always was taken";
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "maximum retry count cannot be used with restart policy 'always'");
  }
}

TEST(RestartPolicy, DecidesFromTheExit) {
  auto always = parse_restart_policy("always", 0);
  auto on_failure = parse_restart_policy("on-failure", 2);
  auto no = parse_restart_policy("no", 0);
  EXPECT_TRUE(should_restart(always, {0, false, false, 0}));
  EXPECT_FALSE(should_restart(always, {0, true, false, 0})) << "stopped by a user";
  EXPECT_FALSE(should_restart(always, {1, false, true, 0})) << "--rm";
  EXPECT_FALSE(should_restart(no, {1, false, false, 0}));
  EXPECT_FALSE(should_restart(on_failure, {0, false, false, 0})) << "a clean exit";
  EXPECT_TRUE(should_restart(on_failure, {3, false, false, 1}));
  EXPECT_FALSE(should_restart(on_failure, {3, false, false, 2})) << "retries used up";
  EXPECT_TRUE(should_restart(parse_restart_policy("on-failure", 0), {3, false, false, 99}));
}

TEST(RestartPolicy, BacksOffAsDockerDoes) {
  auto b = next_backoff(milliseconds(0), seconds(0));
  EXPECT_EQ(b, milliseconds(100));
  b = next_backoff(b, milliseconds(50));
  EXPECT_EQ(b, milliseconds(200));
  for (int i = 0; i < 20; i++) b = next_backoff(b, milliseconds(50));
  EXPECT_EQ(b, milliseconds(60000)) << "at most a minute";
  EXPECT_EQ(next_backoff(b, seconds(10)), milliseconds(100)) << "a run of 10 s resets it";
}

}  // namespace
}  // namespace berth::engine
