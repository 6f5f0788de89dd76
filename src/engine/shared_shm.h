// /dev/shm of a container that others may join (--ipc shareable): a tmpfs mounted on the
// host side, in the container's directory, as dockerd's. A container joining its IPC
// namespace bind-mounts the same tmpfs; one in another mount namespace could not be.
#pragma once

#include <cstdint>
#include <string>

namespace berth::engine {

std::string shareable_shm_path(const std::string& container_dir);
// Mounts it unless it is mounted already; `size` 0 is Docker's 64 MB.
void mount_shareable_shm(const std::string& container_dir, int64_t size);
// Nothing to do when it is not mounted.
void unmount_shareable_shm(const std::string& container_dir);

}  // namespace berth::engine
