// The registry's storage on the filesystem: blobs in the content store (verified, published
// by rename) and, per repository, small link files that say which blobs, manifests, tags and
// referrers it has:
//
//   <root>/blobs/sha256/<hex>                       every blob and manifest, once
//   <root>/repositories/<name>/_layers/<hex>        blob linked into the repository (empty)
//   <root>/repositories/<name>/_manifests/<hex>     manifest in the repository (its media type)
//   <root>/repositories/<name>/_tags/<tag>          tag (the manifest's digest)
//   <root>/repositories/<name>/_referrers/<subject hex>/<hex>   manifest whose subject it is
//
// Repository components never start with '_', so these names cannot clash with a name's
// own path. Every link is written to a unique temporary file and renamed into place, so
// concurrent pushes of the same blob or tag leave one whole link, never a torn one.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "image/content_store.h"

namespace berth::registry {

// The distribution spec's repository name (path components of [a-z0-9] with single
// separators, at most 255 characters) and tag grammars.
bool valid_repository_name(const std::string& name);
bool valid_tag(const std::string& tag);

struct StoredManifest {
  std::string digest;
  std::string media_type;
};

class Storage {
 public:
  explicit Storage(std::string root);

  image::ContentStore& blobs() { return blobs_; }
  const image::ContentStore& blobs() const { return blobs_; }

  bool repository_exists(const std::string& repo) const;
  // Every repository that has a blob or a manifest, sorted.
  std::vector<std::string> repositories() const;

  bool blob_linked(const std::string& repo, const std::string& digest) const;
  void link_blob(const std::string& repo, const std::string& digest);
  // False when the repository did not have it.
  bool unlink_blob(const std::string& repo, const std::string& digest);
  std::vector<std::string> linked_blobs(const std::string& repo) const;

  // A tag or a digest; nullopt when the repository has no such manifest.
  std::optional<StoredManifest> resolve(const std::string& repo, const std::string& ref) const;
  // Stores the body (whose digest the caller computed) and links it into the repository.
  void put_manifest(const std::string& repo, const StoredManifest& m, std::string_view body);
  void tag(const std::string& repo, const std::string& tag, const std::string& digest);
  // Removes the manifest from the repository with every tag that points at it.
  bool delete_manifest(const std::string& repo, const std::string& digest);
  bool delete_tag(const std::string& repo, const std::string& tag);
  // Sorted; nullopt when the repository does not exist.
  std::optional<std::vector<std::string>> tags(const std::string& repo) const;
  std::vector<StoredManifest> manifests(const std::string& repo) const;

  void add_referrer(const std::string& repo, const std::string& subject, const std::string& digest);
  // Digests of the manifests in the repository whose subject is `subject`.
  std::vector<std::string> referrers(const std::string& repo, const std::string& subject) const;

 private:
  std::string repo_dir(const std::string& repo) const;

  std::string root_;
  image::ContentStore blobs_;
};

}  // namespace berth::registry
