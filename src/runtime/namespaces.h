// Private to the runtime module.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "base/fd.h"
#include "oci/spec.h"

namespace berth::runtime {

struct NamespaceJoin {
  int flag;
  std::string path;
  UniqueFd fd;
};

struct NamespacePlan {
  int new_flags = 0;  // CLONE_NEW* of namespaces without a path
  std::vector<NamespaceJoin> joins;
};

NamespacePlan plan_namespaces(const oci::Linux& linux);
// Joins the planned namespaces: only the pid one (which affects children, so the parent
// joins it before clone) when `pid_too`, else all the others.
void join_namespaces(NamespacePlan& plan, bool pid_too);
void write_id_mappings(pid_t pid, const oci::Linux& linux);

}  // namespace berth::runtime
