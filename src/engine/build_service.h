// The engine's builds: a Dockerfile and its context into an image. The builder (build/) walks
// the Dockerfile; this service is its step runner: RUN steps as containers through the same
// runtime as `run`, COPY into snapshots, commits through the image store, and the build cache
// in berth.db.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/sqlite.h"
#include "engine/events.h"
#include "engine/image_service.h"
#include "engine/manager.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/stream.h"

namespace berth::engine {

struct BuildRequest {
  std::string dockerfile = "Dockerfile";  // a path inside the context
  std::vector<std::string> tags;          // name[:tag]
  std::map<std::string, std::string> build_args, labels;
  std::string target;
  std::string network = "default";  // RUN steps: default, bridge, none or host
  bool no_cache = false;
  bool remove = true;         // --rm: intermediate containers go after a successful step
  bool force_remove = false;  // --force-rm: after a failed one too
};

struct BuildResult {
  std::string image_id;
  std::vector<std::string> tagged;  // familiar references
};

class BuildService {
 public:
  BuildService(ContainerManager& containers, image::ImageStore& store, image::ContentStore& content,
               ImageService& images, Db& db, std::string data_root);

  // Reads the context (a tar) from `context`, runs the build, tags the image. `out` gets
  // Docker's step lines and the output of RUN steps as they come.
  BuildResult build(const BuildRequest& req, const image::ReadFn& context,
                    const std::function<void(const std::string&)>& out);

  // builder prune: forgets the cache; returns the keys of the records that went.
  std::vector<std::string> prune_cache();

 private:
  ContainerManager& containers_;
  image::ImageStore& store_;
  image::ContentStore& content_;
  ImageService& images_;
  Db& db_;
  std::string data_root_;
};

}  // namespace berth::engine
