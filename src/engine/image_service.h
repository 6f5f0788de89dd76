// The engine's images: every change to the image store (import, load, tag, remove, prune,
// commit) goes through here, and each publishes its own events where it happens.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/sqlite.h"
#include "engine/events.h"
#include "engine/layer_digests.h"
#include "engine/registry_transfer.h"
#include "image/archive_load.h"
#include "image/content_store.h"
#include "image/image_store.h"
#include "image/import.h"
#include "image/stream.h"

namespace berth::engine {

struct PullTarget;

using image::ReadFn;
using image::WriteFn;

struct PruneResult {
  std::vector<image::RemovedItem> removed;
  uint64_t reclaimed = 0;
};

class ImageService {
 public:
  ImageService(image::ImageStore& store, image::ContentStore& content, EventBus& events, Db& db,
               registry::Options registry);

  std::vector<image::Image> list() const { return store_.list(); }
  image::Image get(const std::string& ref) const { return store_.get(ref); }
  std::optional<image::Image> find(const std::string& ref) const { return store_.find(ref); }
  int64_t layer_size(const std::string& chain_id) const { return store_.layer_size(chain_id); }
  // Read-only access for inspect and history, which show the store's records.
  const image::ImageStore& store() const { return store_; }

  // Docker's tag: `repo` and `tag` as the query gives them, checked in Docker's words.
  void tag(const std::string& image_ref, const std::string& repo, const std::string& tag);
  std::vector<image::RemovedItem> remove(const std::string& ref, bool force, bool prune_parents);
  // Removes the given images where nothing uses them.
  PruneResult prune(const std::vector<std::string>& ids);

  // A root file system tarball from `src` ("-": `body`, else a URL berthd downloads) as a new
  // image, tagged `repo[:tag]` when given.
  image::Image import(const std::string& src, const ReadFn& body, image::ImportOptions opts,
                      const std::string& repo, const std::string& tag);
  image::LoadResult load(const ReadFn& body);
  // Checks the names (NotFound before anything is written), then returns what streams the
  // archive; the "save" events go out once it is written whole.
  std::function<void(const WriteFn&)> save(const std::vector<std::string>& names);

  // Registries. pull() and push() check what they can before anything is streamed (the
  // reference, the manifest, the local image), so that those errors get an HTTP status; the
  // function they return does the transfer, reporting its progress.
  std::function<void(const TransferFn&)> pull(const PullRequest& req);
  std::function<void(const TransferFn&)> push(const PushRequest& req);
  // Checks the credentials with the registry at `server` ("" for Docker Hub); throws
  // registry::Unauthorized when it refuses them.
  void login(const std::string& server, const Credentials& creds);

  // Publishes an image event; `name` (a familiar reference) goes into its attributes.
  void event(const std::string& action, const std::string& id, const std::string& name = "");

 private:
  image::ImageStore& store_;
  image::ContentStore& content_;
  EventBus& events_;
  void pull_one(registry::Client& client, const PullTarget& target, const TransferFn& say);
  void push_one(registry::Client& client, const image::Reference& ref, const image::Image& img,
                const TransferFn& say);

  LayerDigests layer_digests_;
  registry::Options registry_;
};

}  // namespace berth::engine
