// The hugetlb controller: a limit per huge page size.
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

void apply_v1(const std::string& dir, const oci::Resources& r) {
  for (auto& hp : r.hugepage_limits)
    write_control(dir, "hugetlb." + hp.page_size + ".limit_in_bytes", std::to_string(hp.limit));
}

void apply_v2(const std::string& dir, const oci::Resources& r) {
  for (auto& hp : r.hugepage_limits)
    write_control(dir, "hugetlb." + hp.page_size + ".max", std::to_string(hp.limit));
}

}  // namespace

const Controller kHugetlbV1{"hugetlb", apply_v1, nullptr};
const Controller kHugetlbV2{"hugetlb", apply_v2, nullptr};

}  // namespace berth::runtime
