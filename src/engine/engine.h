// THE DOOR: the one face of the engine that api/ and cmd/ see. Typed services, each owning
// its orchestration and publishing its own events, built from a typed DaemonConfig.
#pragma once

#include <memory>
#include <string>

#include "engine/build_service.h"
#include "engine/commit.h"
#include "engine/container_archive.h"
#include "engine/container_mounts.h"
#include "engine/container_spec.h"
#include "engine/container_stats.h"
#include "engine/daemon_config.h"
#include "engine/events.h"
#include "engine/exec.h"
#include "engine/image_service.h"
#include "engine/kernel_features.h"
#include "engine/manager.h"
#include "engine/network_service.h"
#include "engine/volume_service.h"

namespace berth::engine {

class Engine {
 public:
  // Opens the data root (state, content, layers), cleans what a crash left half done and
  // makes the networks ready. Containers are found again by restore().
  explicit Engine(const DaemonConfig& cfg);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Live restore: containers kept running while berthd was away are found again.
  void restore();

  ContainerManager& containers();
  ImageService& images();
  NetworkService& networks();
  VolumeService& volumes();
  ExecManager& execs();
  StatsService& stats();
  EventBus& events();
  BuildService& builds();
  const DaemonConfig& config() const { return cfg_; }

  // Docker's commit: a new image from a container's changes.
  image::Image commit(const std::string& container_ref, const CommitOptions& opts);

 private:
  struct Parts;
  DaemonConfig cfg_;
  std::unique_ptr<Parts> parts_;
};

}  // namespace berth::engine
