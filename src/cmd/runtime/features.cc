// features: what this runtime supports, in the OCI runtime-spec's features.json shape.
#include <seccomp.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {
namespace {

nlohmann::json features() {
  auto ver = seccomp_version();
  return {
      {"ociVersionMin", "1.0.0"},
      {"ociVersionMax", "1.2.0"},
      {"hooks",
       {"prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"}},
      {"mountOptions",
       {"async",      "atime",         "bind",    "defaults", "dev",         "diratime", "dirsync",
        "exec",       "mand",          "noatime", "nodev",    "nodiratime",  "noexec",   "nomand",
        "norelatime", "nostrictatime", "nosuid",  "private",  "rbind",       "relatime", "remount",
        "ro",         "rprivate",      "rshared", "rslave",   "runbindable", "rw",       "shared",
        "slave",      "strictatime",   "suid",    "sync",     "unbindable"}},
      {"linux",
       {{"namespaces", {"cgroup", "ipc", "mount", "network", "pid", "time", "user", "uts"}},
        {"cgroup", {{"v1", true}, {"v2", true}, {"systemd", false}, {"systemdUser", false}}},
        {"seccomp",
         {{"enabled", true},
          {"actions",
           {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO", "SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS",
            "SCMP_ACT_KILL_THREAD", "SCMP_ACT_LOG", "SCMP_ACT_TRACE", "SCMP_ACT_TRAP"}},
          {"operators",
           {"SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_LE", "SCMP_CMP_LT",
            "SCMP_CMP_MASKED_EQ", "SCMP_CMP_NE"}},
          {"archs",
           {"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64",
            "SCMP_ARCH_ARM"}},
          {"knownFlags",
           {"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
            "SECCOMP_FILTER_FLAG_SPEC_ALLOW"}}}},
        {"apparmor", {{"enabled", false}}},
        {"selinux", {{"enabled", false}}}}},
      {"annotations",
       {{"io.github.seccomp.libseccomp.version", std::to_string(ver->major) + "." +
                                                     std::to_string(ver->minor) + "." +
                                                     std::to_string(ver->micro)}}}};
}

}  // namespace

Verb add_features(CLI::App& app) {
  auto* cmd = app.add_subcommand("features", "print the features this runtime supports");
  return {cmd, [](runtime::Runtime&) {
            std::cout << features().dump(4) << "\n";
            return 0;
          }};
}

}  // namespace berth::runtime_cli
