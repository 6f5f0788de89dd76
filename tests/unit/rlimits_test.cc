#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>

#include "base/error.h"
#include "in_child.h"
#include "runtime/security.h"

namespace berth {
namespace {

using testing::check;
using testing::in_child;

TEST(Rlimits, UnknownTypeIsAnError) {
  EXPECT_EQ(runtime::rlimit_resource("RLIMIT_NOFILE"), RLIMIT_NOFILE);
  EXPECT_EQ(runtime::rlimit_resource("RLIMIT_RTTIME"), RLIMIT_RTTIME);
  try {
    runtime::apply_rlimits({{"RLIMIT_BOGUS", 10, 10}});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("unknown rlimit type \"RLIMIT_BOGUS\""), std::string::npos)
        << e.what();
  }
}

TEST(Rlimits, NofileSoftLimitApplied) {
  rlimit cur;
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &cur), 0);
  ASSERT_GE(cur.rlim_max, 100u);
  EXPECT_CHILD_OK(in_child([&] {
    runtime::apply_rlimits({{"RLIMIT_NOFILE", cur.rlim_max, 100}});
    rlimit got;
    return check(::getrlimit(RLIMIT_NOFILE, &got) == 0 && got.rlim_cur == 100 &&
                     got.rlim_max == cur.rlim_max,
                 "RLIMIT_NOFILE reads back");
  }));
}

TEST(Rlimits, FailureNamesTheLimit) {
  EXPECT_CHILD_OK(in_child([] {
    try {
      // Soft above hard is refused by the kernel.
      runtime::apply_rlimits({{"RLIMIT_CORE", 10, 20}});
    } catch (const Error& e) {
      std::string what = e.what();
      return check(what.find("RLIMIT_CORE") != std::string::npos &&
                       what.find("soft 20, hard 10") != std::string::npos &&
                       what.find("Invalid argument") != std::string::npos && e.code() == EINVAL,
                   what.c_str());
    }
    return check(false, "no error");
  }));
}

}  // namespace
}  // namespace berth
