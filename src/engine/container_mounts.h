// A container's mounts through its life: chosen at create (other containers' copied,
// volumes created or named, the image's VOLUMEs added, host paths checked), made ready at
// each start (volumes mounted, the image's content copied up), released at its exit, and
// shown by inspect.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/container.h"
#include "engine/volume_service.h"
#include "oci/spec.h"

namespace berth::engine {

// The resolved mounts of a new container. `config_volumes` is the merged Config.Volumes
// (the image's VOLUME and `-v /ctr`); `container` finds another container (--volumes-from,
// NotFound when missing). Anonymous volumes made here are added to `made`, for the caller to
// remove again if the create fails.
std::vector<MountSpec> resolve_mounts(const ContainerSpec& spec,
                                      const nlohmann::json& config_volumes,
                                      const std::function<Container(const std::string&)>& container,
                                      VolumeService& volumes, std::vector<std::string>& made);

// Whether `path` may name something in an image with these layer directories (top first),
// found without mounting the overlay: false only when it is surely not there.
bool image_may_have(const std::vector<std::string>& layers, const std::string& path);
// Whether a create must fill volumes from the image: a volume mount that allows it, over a
// path the image may have. Mounting the image's overlay to look costs a millisecond.
bool needs_copy_up(const std::vector<MountSpec>& mounts, const std::vector<std::string>& layers);
// Docker's copy-up at create: each empty volume mounted over a directory of the image
// (`rootfs`, mounted) gets its content, unless nocopy.
void copy_up_volumes(const std::vector<MountSpec>& mounts, const std::string& rootfs,
                     VolumeService& volumes);

// The OCI mounts of the container's mounts, parents before children, with its volumes made
// ready (`mount` events).
std::vector<oci::Mount> prepare_mounts(const Container& c, VolumeService& volumes);

// For a stopped container's files (cp): its volumes and binds mounted over `rootfs` in the
// caller's mount namespace, which must be one of its own. Missing mount points are made.
void bind_mounts_into(const Container& c, const std::string& rootfs, VolumeService& volumes);

// At the container's exit: `unmount` events, and the volumes' own mounts undone where no
// other running container uses them (`in_use_elsewhere`).
void release_mounts(const Container& c, VolumeService& volumes,
                    const std::function<bool(const std::string& volume)>& in_use_elsewhere);

// Docker's `Mounts` of container inspect.
nlohmann::json mounts_json(const std::vector<MountSpec>& mounts);

// Whether the container's mounts name the volume.
bool uses_volume(const Container& c, const std::string& name);

}  // namespace berth::engine
