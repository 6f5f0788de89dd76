#include "engine/commit.h"

#include <set>
#include <utility>

#include "base/error.h"
#include "base/log.h"
#include "engine/changes.h"
#include "engine/config_merge.h"
#include "engine/rootfs.h"
#include "image/commit.h"
#include "image/config_changes.h"
#include "image/layer_diff.h"

namespace berth::engine {
namespace {

// Unpauses, on every way out, a container that commit paused.
class PauseGuard {
 public:
  PauseGuard(ContainerManager& m, const Container& c, bool want) : m_(m), id_(c.id) {
    if (!want || c.state.status != State::kRunning) return;
    try {
      m_.pause(id_);
      paused_ = true;
    } catch (const Conflict&) {
      // It stopped meanwhile: there is nothing left to freeze, as dockerd finds too.
    }
  }
  PauseGuard(const PauseGuard&) = delete;
  PauseGuard& operator=(const PauseGuard&) = delete;
  ~PauseGuard() { release(); }
  void release() {
    if (!std::exchange(paused_, false)) return;
    try {
      m_.unpause(id_);
    } catch (const std::exception& e) {
      log::warn("commit: unpause " + id_ + ": " + e.what());
    }
  }

 private:
  ContainerManager& m_;
  std::string id_;
  bool paused_ = false;
};

}  // namespace

image::Image commit_container(ContainerManager& containers, image::ImageStore& images,
                              image::ContentStore& content, EventBus& events,
                              const std::string& ref, const CommitOptions& opts) {
  Container c = containers.get(ref);
  if (c.state.status == State::kDead)
    throw Conflict("You cannot commit container " + c.id + " which is Dead");
  if (c.state.status == State::kRemoving)
    throw Conflict("You cannot commit container " + c.id + " which is being removed");
  // The image's config is the container's; a config sent along takes its place and the
  // container's fills in the rest; --change instructions apply on top (dockerd's order).
  nlohmann::json cfg = opts.config.value_or(c.config);
  if (!cfg.is_object()) throw InvalidArgument("commit: the config must be a JSON object");
  image::apply_config_changes(cfg, opts.changes);
  merge_image_config(cfg, c.config);
  image::Image parent = images.get(c.image_id);

  PauseGuard pause(containers, c, opts.pause);
  // The layer holds what `diff` lists: not the files berthd mounts over (hosts, resolv.conf)
  // nor the directories that only hold them.
  std::string upper = ContainerRootfs(containers.options().snapshot_root(), c.id).diff();
  std::set<std::string> changed;
  for (auto& ch : container_changes(upper, images.layer_dirs(parent))) changed.insert(ch.path);
  image::ChildImage child{opts.author, opts.comment, c.id, cfg, c.config};
  image::Image img = image::commit_image(
      images, content, parent,
      [&](const image::WriteFn& out) {
        return image::write_layer_tar(
            upper, [&](const std::string& path) { return changed.count(path) > 0; }, out);
      },
      child);
  pause.release();

  std::string image_ref;
  if (opts.tag) {
    images.tag(img.id, *opts.tag);
    image_ref = opts.tag->familiar_string();
    events.publish(Event{"image", "tag", img.id, {{"name", image_ref}}, 0});
  }
  containers.event(c, "commit",
                   {{"comment", opts.comment}, {"imageID", img.id}, {"imageRef", image_ref}});
  return img;
}

}  // namespace berth::engine
