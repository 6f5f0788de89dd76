// process.rlimits, set in the container process before it drops privileges (raising a hard
// limit needs CAP_SYS_RESOURCE).
#include <sys/resource.h>

#include <string>
#include <utility>

#include "base/error.h"
#include "runtime/security.h"

namespace berth::runtime {
namespace {

// OCI limits are uint64 with the maximum meaning unlimited, the same value as RLIM_INFINITY.
std::string limit_text(uint64_t v) {
  return v == RLIM_INFINITY ? "unlimited" : std::to_string(v);
}

}  // namespace

int rlimit_resource(const std::string& name) {
  static constexpr std::pair<const char*, int> kLimits[] = {
      {"RLIMIT_AS", RLIMIT_AS},
      {"RLIMIT_CORE", RLIMIT_CORE},
      {"RLIMIT_CPU", RLIMIT_CPU},
      {"RLIMIT_DATA", RLIMIT_DATA},
      {"RLIMIT_FSIZE", RLIMIT_FSIZE},
      {"RLIMIT_LOCKS", RLIMIT_LOCKS},
      {"RLIMIT_MEMLOCK", RLIMIT_MEMLOCK},
      {"RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE},
      {"RLIMIT_NICE", RLIMIT_NICE},
      {"RLIMIT_NOFILE", RLIMIT_NOFILE},
      {"RLIMIT_NPROC", RLIMIT_NPROC},
      {"RLIMIT_RSS", RLIMIT_RSS},
      {"RLIMIT_RTPRIO", RLIMIT_RTPRIO},
      {"RLIMIT_RTTIME", RLIMIT_RTTIME},
      {"RLIMIT_SIGPENDING", RLIMIT_SIGPENDING},
      {"RLIMIT_STACK", RLIMIT_STACK},
  };
  for (const auto& [n, v] : kLimits)
    if (name == n) return v;
  throw Error("invalid config: process.rlimits: unknown rlimit type \"" + name + "\"");
}

void apply_rlimits(const std::vector<oci::Rlimit>& rlimits) {
  for (const auto& r : rlimits) {
    const rlimit lim{r.soft, r.hard};
    if (::setrlimit(rlimit_resource(r.type), &lim) < 0)
      throw_errno("set " + r.type + " to soft " + limit_text(r.soft) + ", hard " +
                  limit_text(r.hard));
  }
}

}  // namespace berth::runtime
