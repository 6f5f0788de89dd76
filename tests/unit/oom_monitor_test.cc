// The OOM monitor's counting on a fake cgroup v1 tree: the kernel's notification cannot be
// faked, but what forget() publishes at an exit (the kills the counter shows beyond those
// already published) can. Live notifications are proven by tests/compat/docker_cli_oom.sh.
#include "engine/oom_monitor.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <vector>

#include "base/fs.h"
#include "support/temp_dir.h"

namespace berth::engine {
namespace {

TEST(OomKillCount, ReadsTheV1AndV2Files) {
  EXPECT_EQ(oom_kill_count("oom_kill_disable 0\nunder_oom 0\noom_kill 7\n"), 7u);
  EXPECT_EQ(oom_kill_count("low 0\nhigh 0\nmax 3\noom 2\noom_kill 1\noom_group_kill 0\n"), 1u);
  EXPECT_EQ(oom_kill_count("oom_kill_disable 0\nunder_oom 0\n"), std::nullopt);  // < 4.13
}

TEST(OomMonitor, ForgetPublishesEachKillSinceTheWatchOnce) {
  test::TempDir dir("oom-monitor");
  std::string cg = dir / "memory/berth/c1";
  mkdir_p(cg, 0755);
  write_file(cg + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n",
             O_CREAT | O_TRUNC);
  write_file(cg + "/cgroup.event_control", "", O_CREAT | O_TRUNC);
  StatsHost host;
  host.v1_mounts["memory"] = dir / "memory";
  std::vector<std::string> published;
  OomMonitor m(host, [&](const std::string& id) { published.push_back(id); });
  m.watch("c1", "/berth/c1");
  // Two kills after the watch began; the three before it are not this watch's.
  write_file(cg + "/memory.oom_control", "oom_kill_disable 0\nunder_oom 0\noom_kill 5\n",
             O_CREAT | O_TRUNC);
  EXPECT_EQ(m.forget("c1"), 2u);
  EXPECT_EQ(published, (std::vector<std::string>{"c1", "c1"}));
  EXPECT_EQ(m.forget("c1"), 0u);  // gone with the first forget
}

TEST(OomMonitor, AnUnwatchableCgroupPublishesNothing) {
  StatsHost host;
  host.v1_mounts["memory"] = "/nonexistent";
  int calls = 0;
  OomMonitor m(host, [&](const std::string&) { calls++; });
  m.watch("c1", "/berth/c1");
  EXPECT_EQ(m.forget("c1"), 0u);
  EXPECT_EQ(calls, 0);
}

}  // namespace
}  // namespace berth::engine
