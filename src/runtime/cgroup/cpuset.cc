// The cpuset controller: the CPUs and memory nodes a container may use. The files are the
// same on both versions; v1 also needs them filled in on every new level.
#include <sys/stat.h>

#include <cerrno>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

void apply(const std::string& dir, const oci::Resources& r) {
  if (!r.cpu.cpus.empty()) write_control(dir, "cpuset.cpus", r.cpu.cpus);
  if (!r.cpu.mems.empty()) write_control(dir, "cpuset.mems", r.cpu.mems);
}

}  // namespace

// A new v1 cpuset cgroup starts with empty cpus and mems, and no task can join it until
// they are set: copy them down from the parent at every level, also at the levels that were
// already there (made by someone else, and left empty).
void create_cpuset_v1(const std::string& mount, const std::string& dir) {
  std::string cur = mount;
  for (auto& part : split(dir.substr(mount.size()), '/')) {
    if (part.empty()) continue;
    std::string parent = cur;
    cur = path_join(cur, part);
    if (::mkdir(cur.c_str(), 0755) < 0 && errno != EEXIST) throw_errno("cgroup: mkdir " + cur);
    for (auto* f : {"cpuset.cpus", "cpuset.mems"})
      if (read_control(cur, f).empty()) write_control(cur, f, read_control(parent, f));
  }
}

const Controller kCpusetV1{"cpuset", apply, nullptr};
const Controller kCpusetV2{"cpuset", apply, nullptr};

}  // namespace berth::runtime
