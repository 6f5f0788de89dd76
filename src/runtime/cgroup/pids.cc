// The pids controller: the most tasks a container may have.
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "runtime/cgroup/controllers.h"
#include "runtime/cgroup_impl.h"

namespace berth::runtime {
namespace {

// The file is the same on both versions; OCI's 0 or -1 is no limit.
void apply(const std::string& dir, const oci::Resources& r) {
  if (r.pids_limit)
    write_control(dir, "pids.max", *r.pids_limit > 0 ? std::to_string(*r.pids_limit) : "max");
}

void stats_v1(const std::string& dir, nlohmann::json& out) {
  auto max = read_file_if_exists(path_join(dir, "pids.max")).value_or("max");
  out["pids"] = {{"current", read_number(dir, "pids.current")},
                 {"limit", trim(max) == "max" ? 0 : std::stoull(max)}};
}

void stats_v2(const std::string& dir, nlohmann::json& out) {
  out["pids"] = {{"current", read_number(dir, "pids.current")},
                 {"limit", read_number(dir, "pids.max")}};
}

}  // namespace

const Controller kPidsV1{"pids", apply, stats_v1};
const Controller kPidsV2{"pids", apply, stats_v2};

}  // namespace berth::runtime
