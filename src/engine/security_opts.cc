#include "engine/security_opts.h"

#include "base/error.h"
#include "engine/seccomp_profile.h"
#include "runtime/security.h"

namespace berth::engine {
namespace {

// Go's strconv.ParseBool, which dockerd uses for these values.
std::optional<bool> parse_bool(const std::string& s) {
  if (s == "1" || s == "t" || s == "T" || s == "true" || s == "TRUE" || s == "True") return true;
  if (s == "0" || s == "f" || s == "F" || s == "false" || s == "FALSE" || s == "False")
    return false;
  return std::nullopt;
}

}  // namespace

SecurityOptions parse_security_opts(const nlohmann::json& hc) {
  SecurityOptions out;
  auto it = hc.find("SecurityOpt");
  if (it == hc.end() || it->is_null()) return out;
  if (!it->is_array()) throw InvalidArgument("SecurityOpt: expected a list of strings");
  for (auto& v : *it) {
    if (!v.is_string()) throw InvalidArgument("SecurityOpt: expected a list of strings");
    std::string opt = v.get<std::string>();
    if (opt == "no-new-privileges") {
      out.no_new_privileges = true;
      continue;
    }
    if (opt == "disable") continue;  // label=disable in its old spelling
    // "key:value" is the old spelling dockerd still reads.
    auto sep = opt.find('=');
    if (sep == std::string::npos) sep = opt.find(':');
    if (sep == std::string::npos)
      throw InvalidArgument("invalid --security-opt 1: \"" + opt + "\"");
    std::string key = opt.substr(0, sep), value = opt.substr(sep + 1);
    if (key == "seccomp") {
      out.seccomp = value;
    } else if (key == "no-new-privileges" || key == "writable-cgroups") {
      auto b = parse_bool(value);
      if (!b) throw InvalidArgument("invalid --security-opt 2: \"" + opt + "\"");
      (key == "no-new-privileges" ? out.no_new_privileges : out.writable_cgroups) = *b;
    } else if (key == "label" || key == "apparmor") {
      // Without SELinux or AppArmor, "disable" and "unconfined" are what happens anyway.
      if (value != "disable" && value != "unconfined") out.unsupported.push_back(opt);
    } else {
      throw InvalidArgument("invalid --security-opt 2: \"" + opt + "\"");
    }
  }
  return out;
}

std::optional<oci::Seccomp> container_seccomp(const SecurityOptions& opts, bool privileged,
                                              const std::vector<std::string>& caps) {
  if (privileged || opts.seccomp == "unconfined") return std::nullopt;
  if (opts.seccomp.empty() || opts.seccomp == "builtin")
    return SeccompProfile::builtin().for_container(caps);
  return SeccompProfile::parse(opts.seccomp).for_container(caps);
}

void check_security_opts(const nlohmann::json& hc, const std::vector<std::string>& caps) {
  SecurityOptions opts = parse_security_opts(hc);
  if (opts.seccomp.empty() || opts.seccomp == "builtin" || opts.seccomp == "unconfined") return;
  auto profile = container_seccomp(opts, hc.value("Privileged", false), caps);
  if (!profile) return;
  try {
    runtime::SeccompFilter compiled(*profile);
  } catch (const Error& e) {
    throw InvalidArgument(std::string("invalid seccomp profile: ") + e.what());
  }
}

}  // namespace berth::engine

namespace berth::engine {

std::vector<std::string> security_opt_warnings(const nlohmann::json& hc) {
  std::vector<std::string> out;
  for (auto& opt : parse_security_opts(hc).unsupported)
    out.push_back("--security-opt " + opt +
                  " has no effect: this berthd has no SELinux or AppArmor support");
  return out;
}

}  // namespace berth::engine
