// docker top's parsing of ps's table and its check of ps options, as dockerd's; and ps_top
// over this test's own process.
#include "engine/container_top.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "base/error.h"

namespace berth::engine {
namespace {

using nlohmann::json;

TEST(ContainerTop, KeepsTheContainersRowsAndJoinsTheCommand) {
  std::string out =
      "UID          PID    PPID  C STIME TTY          TIME CMD\n"
      "root           1       0  0 10:00 ?        00:00:01 /sbin/init\n"
      "root         812     800  0 10:01 ?        00:00:00 sh -c sleep  1000 & wait\n"
      "root         813     812  0 10:01 ?        00:00:00 sleep 1000\n";
  auto t = parse_ps_table(out, {812, 813});
  EXPECT_EQ(t["Titles"], json({"UID", "PID", "PPID", "C", "STIME", "TTY", "TIME", "CMD"}));
  ASSERT_EQ(t["Processes"].size(), 2u);
  // dockerd splits on white space and joins the overhang with one space.
  EXPECT_EQ(t["Processes"][0],
            json({"root", "812", "800", "0", "10:01", "?", "00:00:00", "sh -c sleep 1000 & wait"}));
  EXPECT_EQ(t["Processes"][1][7], "sleep 1000");
}

TEST(ContainerTop, ThreadRowsFollowTheirProcess) {
  std::string out =
      "  PID TTY          TIME CMD\n"
      "    7 ?        00:00:00 other\n"
      "    - -        00:00:00 -\n"
      "   42 ?        00:00:00 app\n"
      "    - -        00:00:00 -\n"
      "    - -        00:00:00 -\n";
  auto t = parse_ps_table(out, {42});
  EXPECT_EQ(t["Processes"].size(), 3u);
  EXPECT_EQ(t["Processes"][0][3], "app");
}

TEST(ContainerTop, RefusesATableWithoutPid) {
  try {
    parse_ps_table("COMMAND\nsh\n", {1});
    FAIL();
  } catch (const Error& e) {
    EXPECT_STREQ(e.what(), "Couldn't find PID field in ps output");
  }
  EXPECT_THROW(parse_ps_table("PID CMD\nx sh\n", {1}), Error);
}

TEST(ContainerTop, RefusesAnotherColumnNamedPid) {
  EXPECT_NO_THROW(check_ps_args("-o pid=PID,comm"));
  EXPECT_NO_THROW(check_ps_args("aux"));
  // dockerd's pattern takes the whole word before '=' as the column.
  EXPECT_THROW(check_ps_args("-o pid,user=PIDX"), Error);
  try {
    check_ps_args("-o user=PID");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(kind_of(e), ErrorKind::kInvalidArgument);
    EXPECT_STREQ(e.what(), "specifying \"user=PID\" is not allowed");
  }
}

TEST(ContainerTop, RunsPsForTheGivenPids) {
  auto t = ps_top({getpid()}, "-o pid,comm");
  EXPECT_EQ(t["Titles"], json({"PID", "COMMAND"}));
  ASSERT_EQ(t["Processes"].size(), 1u);
  EXPECT_EQ(t["Processes"][0][0], std::to_string(getpid()));
  try {
    ps_top({getpid()}, "--no-such-option");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("ps: ", 0), 0u) << e.what();
  }
}

}  // namespace
}  // namespace berth::engine
