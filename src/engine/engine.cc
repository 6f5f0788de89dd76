#include "engine/engine.h"

#include <sys/stat.h>

#include "base/fs.h"
#include "base/sqlite.h"
#include "engine/health_monitor.h"

namespace berth::engine {

// Declared in the order they are built: each part uses only those above it.
struct Engine::Parts {
  Db db;
  image::ContentStore content;
  image::ImageStore image_store;
  EventBus events;
  network::NetworkManager network_manager;
  volume::VolumeStore volume_store;
  VolumeService volumes;
  ContainerManager containers;
  ImageService images;
  NetworkService networks;
  std::shared_ptr<ExecManager> execs;
  std::shared_ptr<HealthMonitor> health;
  StatsService stats;
  BuildService builds;

  explicit Parts(const DaemonConfig& cfg)
      : db(path_join(cfg.data_root, "berth.db"), ""),
        content(path_join(cfg.data_root, "content")),
        image_store(db, content, path_join(cfg.data_root, "overlay")),
        network_manager(cfg.network_options(), db),
        volume_store(db, path_join(cfg.data_root, "volumes")),
        volumes(volume_store, events),
        containers(cfg.engine_options(), db, image_store, network_manager, volumes, events),
        images(image_store, content, events, db, registry::Options{cfg.insecure_registries}),
        networks(network_manager, events),
        execs(std::make_shared<ExecManager>(containers, events)),
        health(HealthMonitor::create(containers, *execs)),
        stats(containers, StatsHost::detect()),
        builds(containers, image_store, content, images, db, cfg.data_root) {}
};

Engine::Engine(const DaemonConfig& cfg) : cfg_(cfg) {
  // As dockerd's: other users may not even list what the data root holds.
  mkdir_p(cfg_.data_root, 0710);
  ::chmod(cfg_.data_root.c_str(), 0710);
  mkdir_p(cfg_.exec_root, 0711);
  parts_ = std::make_unique<Parts>(cfg_);
  // What a kill -9 left half done (a layer being unpacked, a blob being written) goes now.
  parts_->content.clear_temporary();
  parts_->image_store.collect_garbage();
  // The image store never calls up into the engine: the engine tells it what is in use.
  parts_->image_store.set_in_use(
      [c = &parts_->containers](const std::string& id) { return c->image_user(id); });
  parts_->volumes.set_users(
      [c = &parts_->containers](const std::string& name) { return c->volume_users(name); });
}

Engine::~Engine() = default;

void Engine::restore() {
  parts_->containers.restore();
  parts_->health->restore();
}

ContainerManager& Engine::containers() {
  return parts_->containers;
}
ImageService& Engine::images() {
  return parts_->images;
}
NetworkService& Engine::networks() {
  return parts_->networks;
}
VolumeService& Engine::volumes() {
  return parts_->volumes;
}
ExecManager& Engine::execs() {
  return *parts_->execs;
}
StatsService& Engine::stats() {
  return parts_->stats;
}
BuildService& Engine::builds() {
  return parts_->builds;
}
EventBus& Engine::events() {
  return parts_->events;
}

image::Image Engine::commit(const std::string& container_ref, const CommitOptions& opts) {
  return commit_container(parts_->containers, parts_->image_store, parts_->content, parts_->events,
                          container_ref, opts);
}

}  // namespace berth::engine
