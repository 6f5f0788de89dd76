// Images and their layers: metadata in SQLite, config and layer blobs in the content store,
// each layer unpacked once into overlay/<chain-id>/diff and shared by every image that has
// it. An in-memory index mirrors the database so that lookups never rescan it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/sqlite.h"
#include "image/content_store.h"
#include "image/manifest.h"
#include "image/reference.h"

namespace berth::image {

struct Image {
  std::string id;           // "sha256:<hex>", the digest of config_text
  std::string config_text;  // the config blob's bytes, kept exactly as they arrived
  ImageConfig config;
  std::string parent;                // the image this one was built or committed from, or ""
  int64_t size = 0;                  // sum of its layers' unpacked sizes
  int64_t loaded = 0;                // unix seconds when it arrived in this store
  std::vector<std::string> tags;     // "docker.io/library/busybox:latest"
  std::vector<std::string> digests;  // "docker.io/library/busybox@sha256:..."
  std::vector<std::string> chain_ids;
};

// One line of `rmi` output: exactly one of the two is set.
struct RemovedItem {
  std::string untagged;  // familiar reference
  std::string deleted;   // image id
  std::string image_id;  // the image an untagged reference pointed at
};

std::string chain_id(const std::string& parent_chain, const std::string& diff_id);

class ImageStore {
 public:
  ImageStore(Db& db, ContentStore& content, std::string overlay_root);

  // Tells whether a container uses an image (containers arrive with the engine); images in
  // use are not removed unless forced, and never pruned.
  // `in_use` returns the id of a container that uses the image, or "".
  void set_in_use(std::function<std::string(const std::string& image_id)> in_use);

  // Makes sure the layer exists, unpacking its blob (the uncompressed tar, stored under its
  // diff id) when it is new. Returns the chain id.
  std::string ensure_layer(const std::string& parent_chain, const std::string& diff_id);
  std::string layer_dir(const std::string& chain_id) const;

  // A layer unpacked ahead of time, while its blob was still arriving (load does this):
  // ensure_layer() moves it into place instead of unpacking the blob again. A layer's
  // directory does not depend on its parents, so it is keyed by diff id alone.
  // make_staging_dir() returns a fresh directory that collect_garbage() removes after a crash.
  std::string make_staging_dir();
  void stage_layer(const std::string& diff_id, const std::string& dir, int64_t size);
  // Removes a staged layer that no image took.
  void drop_staged(const std::string& diff_id);
  // The diff directories of an image's layers, the top one first (overlay's lowerdir order).
  std::vector<std::string> layer_dirs(const Image& img) const;

  // Registers an image whose config blob is given and whose layer blobs are in the content
  // store; unpacks the layers it does not have yet. Idempotent.
  Image add_image(const std::string& config_text, const std::string& parent = "");

  // By reference ("busybox", "busybox:1", "name@sha256:..."), full id or unique id prefix.
  std::optional<Image> find(const std::string& name) const;
  // As find(), throwing NotFound "No such image: <name>".
  Image get(const std::string& name) const;
  std::vector<Image> list() const;
  uint64_t layer_count() const;
  int64_t layer_size(const std::string& chain_id) const;

  // Points `ref` at the image; a tag that was elsewhere moves (the old image may become
  // dangling). Returns the id of the image the tag was taken from, or "".
  std::string tag(const std::string& image_id, const Reference& ref);
  // Docker's rmi: untag, or delete an image and the layers nothing else shares.
  std::vector<RemovedItem> remove(const std::string& name, bool force, bool prune_parents);
  // Deletes the given image ids (for prune); images in use or with children are skipped.
  // Returns the removed items and the bytes reclaimed.
  std::pair<std::vector<RemovedItem>, uint64_t> remove_unused(const std::vector<std::string>& ids);

  // Keeps blobs and layers (by digest or chain id) from being released while an import or
  // load that has written them has not registered its image yet.
  [[nodiscard]] std::shared_ptr<void> pin(std::vector<std::string> digests);

  // Layers and blobs written for images that are not registered yet (an add_image or a load
  // halfway), pinned meanwhile so that a concurrent rmi or prune leaves them. Unless
  // commit() was called, those that no image, layer or other pin uses are removed when this
  // goes: an image refused halfway, for whatever reason, leaves nothing behind.
  class Uncommitted {
   public:
    explicit Uncommitted(ImageStore& store) : store_(store) {}
    ~Uncommitted();
    Uncommitted(const Uncommitted&) = delete;
    Uncommitted& operator=(const Uncommitted&) = delete;

    // A blob stored for the images (a config, an archive's layer), removed with them unless
    // something else uses it.
    void add_blob(const std::string& digest);
    // ensure_layer(), the layer removed with the images unless another image uses it.
    std::string ensure_layer(const std::string& parent_chain, const std::string& diff_id);
    // The images are registered: what they use stays.
    void commit() { committed_ = true; }

   private:
    void pin(std::vector<std::string> digests);

    ImageStore& store_;
    std::vector<std::string> blobs_, chains_, pinned_;
    std::shared_ptr<void> pin_;
    bool committed_ = false;
  };

  // Removes a blob that an import or load stored and no image, layer or pin uses.
  void discard_blob(const std::string& digest);

  // Removes what a crash left behind: half-unpacked layers, layers and blobs no image uses.
  void collect_garbage();

 private:
  struct Layer {
    std::string chain_id, diff_id, parent;
    int64_t size = 0;
  };

  void load_index();
  std::optional<std::string> resolve_locked(const std::string& name) const;
  bool has_children_locked(const std::string& id) const;
  void untag_locked(const std::string& ref_name);
  void delete_image_locked(const std::string& id, std::vector<RemovedItem>& out);
  void release_layers_locked(const std::vector<std::string>& chain_ids);
  Image public_image(const std::string& id) const;

  Db& db_;
  ContentStore& content_;
  std::string overlay_root_;
  std::function<std::string(const std::string&)> in_use_;

  mutable std::recursive_mutex mu_;
  std::mutex unpack_mu_;  // one unpack at a time: a layer is never unpacked twice
  std::map<std::string, Image> images_;
  std::map<std::string, Layer> layers_;
  std::map<std::string, std::string> refs_;  // full reference -> image id
  std::multiset<std::string> pins_;
  std::map<std::string, std::pair<std::string, int64_t>> staged_;  // diff id -> (dir, size)
};

}  // namespace berth::image
