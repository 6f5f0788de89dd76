// A container's OCI runtime spec (config.json), built from Docker's Config and HostConfig
// the way dockerd builds it: default capabilities, devices, mounts, masked paths, seccomp, user
// resolved in the image's /etc/passwd and /etc/group.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/container.h"
#include "oci/spec.h"

namespace berth::engine {

struct SpecPaths {
  std::string rootfs;         // the mounted overlay
  std::string hostname_file;  // bind-mounted over /etc/hostname
  std::string hosts_file;     // /etc/hosts
  std::string resolv_conf;    // /etc/resolv.conf
  std::string netns;          // the network namespace to join; empty: a new one (or the host's)
  std::string cgroup_parent = "/berth";
  std::string init_binary;  // mounted at /sbin/docker-init to run the command; empty: none
  // Namespaces joined from other containers (--pid/--ipc container:NAME): type -> path.
  std::map<std::string, std::string> joined_namespaces;
  // /dev/shm to bind for a shared IPC namespace (the host's or the other container's).
  std::string shared_shm;
  // The user's mounts (volumes, binds, tmpfs) as OCI mounts, parents first: they replace a
  // default mount of the same destination (/dev/shm, /etc/hosts...).
  std::vector<oci::Mount> user_mounts;
};

oci::Spec build_spec(const Container& c, const SpecPaths& paths);

// The container's process as the runtime starts it (with Docker's init in front when
// `with_init`), run as `user_spec` ("user", "uid:gid"...) resolved in `rootfs`: the
// container's Config.User, or an exec's --user, since it is also the base of each exec's,
// whose rlimits, no_new_privs and capabilities are the container's.
oci::Process container_process(const Container& c, const std::string& rootfs,
                               const std::string& user_spec, bool with_init);

// linux.cgroupsPath: the container's --cgroup-parent, else `default_parent`, then its id.
std::string cgroups_path(const Container& c, const std::string& default_parent);

// Every capability the kernel knows and berthd may hand out (its bounding set: a daemon in a
// restricted environment cannot grant more): what --privileged, CapAdd ALL and a privileged
// exec get.
std::vector<std::string> grantable_capabilities();

// The container's capability set: Docker's default one, or all grantable ones for --privileged,
// with CapAdd and CapDrop applied ("ALL" in either).
std::vector<std::string> container_capabilities(const nlohmann::json& host_config);

struct ResolvedUser {
  uint32_t uid = 0, gid = 0;
  std::vector<uint32_t> additional_gids;  // groups that list the user, then --group-add
  std::string home = "/";                 // from passwd; "/" when the user has no entry
};

// "user", "uid", "user:group", "uid:gid" -> uid and gid from the rootfs's passwd/group files,
// with `group_add` (names or ids) added. Throws InvalidArgument in Docker's words when a name
// is not found.
ResolvedUser resolve_user(const std::string& rootfs, const std::string& user,
                          const std::vector<std::string>& group_add = {});

}  // namespace berth::engine
