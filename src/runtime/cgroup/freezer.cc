// Freezing (pause and resume): v1's freezer controller and v2's cgroup.freeze.
#include <unistd.h>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {

void freeze_v1(const std::string& dir, bool frozen) {
  const char* want = frozen ? "FROZEN" : "THAWED";
  // The freezer moves through FREEZING; writing again nudges tasks that were busy.
  for (int i = 0; i < 2000; i++) {
    write_control(dir, "freezer.state", want);
    if (read_control(dir, "freezer.state") == want) return;
    ::usleep(1000);
  }
  throw Error("cgroup: " + dir + " did not reach " + want);
}

bool frozen_v1(const std::string& dir) {
  auto state = read_file_if_exists(path_join(dir, "freezer.state"));
  return state && trim(*state) == "FROZEN";
}

void freeze_v2(const std::string& dir, bool frozen) {
  write_control(dir, "cgroup.freeze", frozen ? "1" : "0");
  std::string want = frozen ? "frozen 1" : "frozen 0";
  // cgroup.events reports when every task has stopped; a task in the middle of a system
  // call takes a moment.
  for (int i = 0; i < 2000; i++) {
    auto events = read_file_if_exists(path_join(dir, "cgroup.events")).value_or("");
    if (events.find(want) != std::string::npos) return;
    ::usleep(1000);
  }
  throw Error("cgroup: " + dir + " did not reach \"" + want + "\"");
}

bool frozen_v2(const std::string& dir) {
  auto f = read_file_if_exists(path_join(dir, "cgroup.freeze"));
  return f && trim(*f) == "1";
}

}  // namespace berth::runtime
