#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>
#include <string>
#include <vector>

#include "base/error.h"
#include "in_child.h"
#include "runtime/security.h"

namespace berth {
namespace {

using testing::check;
using testing::check_result;
using testing::in_child;

std::string upper_name(cap_value_t cap) {
  char* n = cap_to_name(cap);
  std::string s = n;
  cap_free(n);
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::toupper(c); });
  return s;
}

// The hex mask on a line of /proc/self/status such as "CapAmb:\t0000000000000400".
uint64_t status_mask(const std::string& key) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.starts_with(key + ":")) return std::stoull(line.substr(key.size() + 1), nullptr, 16);
  return ~uint64_t{0};
}

// The capabilities this test process holds (it may run in a container without some of them),
// as OCI names, minus `except`.
std::vector<std::string> own_caps_except(std::vector<cap_value_t> except = {}) {
  uint64_t permitted = status_mask("CapPrm");
  std::vector<std::string> names;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++)
    if ((permitted >> c & 1) && std::find(except.begin(), except.end(), c) == except.end())
      names.push_back(upper_name(c));
  return names;
}

std::string check_error(const oci::Capabilities& caps) {
  try {
    runtime::check_capabilities(caps);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

TEST(Capabilities, UnknownNamesAreErrors) {
  oci::Capabilities caps;
  caps.bounding = {"CAP_CHOWN", "CAP_FOO"};
  EXPECT_NE(
      check_error(caps).find("unknown capability \"CAP_FOO\" in process.capabilities.bounding"),
      std::string::npos)
      << check_error(caps);
  caps.bounding = {"CAP_CHOWN"};
  caps.ambient = {"CAP_KILL", "CAP_CHOWNX"};
  EXPECT_NE(check_error(caps).find("\"CAP_CHOWNX\" in process.capabilities.ambient"),
            std::string::npos)
      << check_error(caps);
  // libcap would read these as CAP_KILL (5) and CAP_CHOWN.
  caps.ambient = {"5"};
  EXPECT_NE(check_error(caps).find("unknown capability \"5\""), std::string::npos);
  caps.ambient = {"CAP_CHOWN,CAP_KILL"};
  EXPECT_NE(check_error(caps).find("unknown capability"), std::string::npos);
}

TEST(Capabilities, KnownNamesPass) {
  std::vector<std::string> all;
  for (cap_value_t c = 0; c <= CAP_LAST_CAP; c++) all.push_back(upper_name(c));
  oci::Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = caps.inheritable = caps.ambient = all;
  EXPECT_EQ(check_error(caps), "");
}

TEST(Capabilities, CapsTheRuntimeLacksAreNamed) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  oci::Capabilities without_kill;
  without_kill.bounding = own_caps_except();
  without_kill.effective = without_kill.permitted = own_caps_except({CAP_KILL});
  oci::Capabilities with_kill = without_kill;
  with_kill.permitted = own_caps_except();
  EXPECT_CHILD_OK(in_child([&] {
    runtime::apply_capabilities(without_kill);
    try {
      runtime::apply_capabilities(with_kill);
    } catch (const Error& e) {
      return check(std::string(e.what()).find("not permitted to the runtime: cap_kill") !=
                           std::string::npos &&
                       e.code() == EPERM,
                   e.what());
    }
    return check(false, "no error");
  }));
}

TEST(Capabilities, BoundingSetDropsChown) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  char path[] = "/tmp/berth-cap-XXXXXX";
  int fd = ::mkstemp(path);
  ASSERT_GE(fd, 0);
  ::close(fd);
  oci::Capabilities caps;
  caps.bounding = caps.effective = caps.permitted = own_caps_except({CAP_CHOWN});
  int status = in_child([&] {
    runtime::apply_capabilities(caps);
    bool ok = check(::prctl(PR_CAPBSET_READ, CAP_CHOWN, 0, 0, 0) == 0, "CAP_CHOWN not bounding");
    ok &= check(::prctl(PR_CAPBSET_READ, CAP_KILL, 0, 0, 0) == 1, "CAP_KILL still bounding");
    ok &= check_result(::chown(path, 1234, 1234), EPERM, "chown");
    return ok;
  });
  ::unlink(path);
  EXPECT_CHILD_OK(status);
}

TEST(Capabilities, EffectiveSetWithoutNetRaw) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  oci::Capabilities caps;
  caps.bounding = own_caps_except();
  caps.effective = caps.permitted = own_caps_except({CAP_NET_RAW});
  EXPECT_CHILD_OK(in_child([&] {
    runtime::apply_capabilities(caps);
    return check_result(::socket(AF_INET, SOCK_RAW, IPPROTO_ICMP), EPERM, "raw socket") &&
           check(status_mask("CapEff") == status_mask("CapPrm"), "effective == permitted");
  }));
}

TEST(Capabilities, AmbientAfterSwitchToAnotherUser) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root";
  oci::Capabilities caps;
  caps.bounding = own_caps_except({CAP_SYS_MODULE});
  caps.effective = caps.permitted = caps.inheritable = {"CAP_NET_BIND_SERVICE", "CAP_NET_RAW"};
  // CAP_SYS_ADMIN is not permitted, so it is skipped rather than failing, as in runc.
  caps.ambient = {"CAP_NET_BIND_SERVICE", "CAP_SYS_ADMIN"};
  EXPECT_CHILD_OK(in_child([&] {
    // The runtime's order: keep the permitted caps across the user switch, then apply.
    if (::prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0 || ::setresgid(1000, 1000, 1000) < 0 ||
        ::setresuid(1000, 1000, 1000) < 0 || ::prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
      throw Error("switch to uid 1000 failed");
    runtime::apply_capabilities(caps);
    uint64_t want = (uint64_t{1} << CAP_NET_BIND_SERVICE) | (uint64_t{1} << CAP_NET_RAW);
    bool ok = check(status_mask("CapAmb") == (uint64_t{1} << CAP_NET_BIND_SERVICE), "CapAmb");
    ok &= check(status_mask("CapEff") == want && status_mask("CapPrm") == want, "CapEff/CapPrm");
    ok &= check(::prctl(PR_CAPBSET_READ, CAP_SYS_MODULE, 0, 0, 0) == 0, "bounding dropped");
    return ok;
  }));
}

}  // namespace
}  // namespace berth
