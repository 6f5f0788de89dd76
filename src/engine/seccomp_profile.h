// Docker's seccomp profiles, in moby's format (archMap, rules with includes/excludes by
// capability, architecture and kernel version), turned into the OCI linux.seccomp of one
// container the way dockerd turns them. The builtin profile is moby's default
// (seccomp_default.json, embedded at build time).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "oci/spec.h"

namespace berth::engine {

// What a profile's rules are matched against besides the container's capabilities.
struct SeccompHost {
  std::string arch;          // the name rules use in "arches": "amd64", "arm64"; empty: unknown
  std::string seccomp_arch;  // the same as an archMap "architecture": "SCMP_ARCH_X86_64"
  std::pair<unsigned, unsigned> kernel{0, 0};  // "6.1.0-13-amd64" -> {6, 1}

  static const SeccompHost& current();
};

class SeccompProfile {
 public:
  // Throws InvalidArgument ("Decoding seccomp profile failed: <field>: <why>") when the text is
  // not a profile.
  static SeccompProfile parse(const std::string& text);
  // The builtin default, parsed once.
  static const SeccompProfile& builtin();

  // linux.seccomp for a container whose bounding set is `caps`: the rules whose includes all
  // hold and whose excludes do not, the host's architectures from archMap. nullopt when the
  // profile has neither a default action nor rules (moby reads that as "no filter").
  std::optional<oci::Seccomp> for_container(const std::vector<std::string>& caps,
                                            const SeccompHost& host = SeccompHost::current()) const;

 private:
  struct Filter {
    std::vector<std::string> caps, arches;
    std::optional<std::pair<unsigned, unsigned>> min_kernel;
  };
  struct Rule {
    oci::SeccompSyscall syscall;
    std::optional<Filter> includes, excludes;
  };
  struct ArchEntry {
    std::string arch;
    std::vector<std::string> sub_arches;
  };

  oci::Seccomp base_;  // everything but the rules, as the profile gives it
  std::vector<ArchEntry> arch_map_;
  std::vector<Rule> rules_;
};

}  // namespace berth::engine
