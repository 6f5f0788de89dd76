// Namespaces: the clone flags for new ones, joining existing ones by path, id mappings.
#include "runtime/namespaces.h"

#include <fcntl.h>
#include <sched.h>

#include <algorithm>

#include "base/error.h"
#include "base/fs.h"
#include "runtime/internal.h"

namespace berth::runtime {

int namespace_flag(const std::string& type) {
  if (type == "pid") return CLONE_NEWPID;
  if (type == "network") return CLONE_NEWNET;
  if (type == "mount") return CLONE_NEWNS;
  if (type == "ipc") return CLONE_NEWIPC;
  if (type == "uts") return CLONE_NEWUTS;
  if (type == "user") return CLONE_NEWUSER;
  if (type == "cgroup") return CLONE_NEWCGROUP;
  if (type == "time") return CLONE_NEWTIME;
  throw Error("unknown namespace type \"" + type + "\"");
}

NamespacePlan plan_namespaces(const oci::Linux& linux) {
  NamespacePlan plan;
  for (auto& ns : linux.namespaces) {
    int flag = namespace_flag(ns.type);
    if (ns.path.empty()) {
      plan.new_flags |= flag;
      continue;
    }
    // Opened now so that a wrong path fails before anything is created.
    UniqueFd fd(::open(ns.path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) throw_errno("invalid config: linux.namespaces: " + ns.type + " path " + ns.path);
    plan.joins.push_back({flag, ns.path, std::move(fd)});
  }
  // The user namespace is joined first: the others are owned by it.
  std::stable_partition(plan.joins.begin(), plan.joins.end(),
                        [](const NamespaceJoin& j) { return j.flag == CLONE_NEWUSER; });
  return plan;
}

void join_namespaces(NamespacePlan& plan, bool pid_too) {
  for (auto& j : plan.joins) {
    if (j.flag == CLONE_NEWPID && !pid_too) continue;
    if (j.flag != CLONE_NEWPID && pid_too) continue;
    if (::setns(j.fd.get(), j.flag) < 0) throw_errno("join namespace " + j.path);
  }
}

void write_id_mappings(pid_t pid, const oci::Linux& linux) {
  auto format = [](const std::vector<oci::IdMapping>& maps) {
    std::string out;
    for (auto& m : maps)
      out += std::to_string(m.container_id) + " " + std::to_string(m.host_id) + " " +
             std::to_string(m.size) + "\n";
    return out;
  };
  auto base = "/proc/" + std::to_string(pid);
  try {
    if (!linux.gid_mappings.empty()) write_file(base + "/gid_map", format(linux.gid_mappings));
    if (!linux.uid_mappings.empty()) write_file(base + "/uid_map", format(linux.uid_mappings));
  } catch (const std::exception& e) {
    rethrow_with_context(e, "write user namespace mappings");
  }
}

}  // namespace berth::runtime
