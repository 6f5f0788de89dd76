// HostConfig.SecurityOpt read as dockerd reads it (--security-opt seccomp=..., no-new-privileges,
// writable-cgroups; label and apparmor are accepted with a warning, as berth has neither
// SELinux nor AppArmor support), and the seccomp filter a container gets from it.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "oci/spec.h"

namespace berth::engine {

struct SecurityOptions {
  bool no_new_privileges = false;
  bool writable_cgroups = false;
  // "" or "builtin": Docker's default profile; "unconfined": none; else a profile's JSON (the
  // docker CLI reads the file given to --security-opt seccomp=FILE and sends its content).
  std::string seccomp;
  // label and apparmor options that would need SELinux or AppArmor: warned about.
  std::vector<std::string> unsupported;
};

// Throws InvalidArgument in Docker's words for an option it does not know.
SecurityOptions parse_security_opts(const nlohmann::json& host_config);

// dockerd-style warnings for the options that cannot take effect here.
std::vector<std::string> security_opt_warnings(const nlohmann::json& host_config);

// linux.seccomp for a container whose bounding set is `caps`; nullopt for no filter
// (seccomp=unconfined, or --privileged, as with Docker).
std::optional<oci::Seccomp> container_seccomp(const SecurityOptions& opts, bool privileged,
                                              const std::vector<std::string>& caps);

// At create: the options parse, and a profile of the user's own decodes and compiles for the
// container's capabilities, so a bad one is a 400 then rather than a failed start.
void check_security_opts(const nlohmann::json& host_config, const std::vector<std::string>& caps);

}  // namespace berth::engine
