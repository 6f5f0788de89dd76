// Privilege settings of a container process: capabilities, seccomp, rlimits.
#pragma once

#include <linux/filter.h>

#include <memory>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace berth::runtime {

// Validates capability names before anything is created; throws naming the unknown one.
void check_capabilities(const oci::Capabilities& caps);

// Drops the bounding set to `caps.bounding`, then sets effective, permitted and inheritable,
// then raises the ambient set. Called after the switch to the container user, with
// PR_SET_KEEPCAPS set before that switch so permitted caps survive it.
void apply_capabilities(const oci::Capabilities& caps);

// A compiled seccomp filter. Building it (and so finding errors such as an unknown action or
// architecture) happens at create time, down to the BPF program; load() is the last step
// before exec.
class SeccompFilter {
 public:
  // With a `cache_dir`, the generated program is kept there under the profile it came from:
  // generating Docker's default profile costs ~12-20 ms, which only the first container of a
  // profile then pays (later ones read ~8 KB and compare the profile).
  explicit SeccompFilter(const oci::Seccomp& profile, const std::string& cache_dir = "");
  void load();

 private:
  std::vector<sock_filter> program_;
  unsigned flags_ = 0;  // SECCOMP_FILTER_FLAG_*
};

// setrlimit for each entry; throws naming the unknown type or the limit that failed.
void apply_rlimits(const std::vector<oci::Rlimit>& rlimits);
int rlimit_resource(const std::string& name);

}  // namespace berth::runtime
