// Mark and sweep, as registry:2's garbage-collect: every manifest a repository holds (or,
// with --delete-untagged, only those its tags reach) marks itself, its blobs and its
// children; blobs nothing marked are removed from the store and from every repository's
// links.
#include <set>

#include "registry/server.h"
#include "registry/server_manifest.h"
#include "registry/server_storage.h"

namespace berth::registry {

namespace {

struct Marker {
  Storage& storage;
  std::ostream& out;
  std::set<std::string> marked;

  void mark_manifest(const std::string& repo, const std::string& digest,
                     const std::string& media_type) {
    if (!marked.insert(digest).second) return;
    out << repo << ": marking manifest " << digest << "\n";
    if (!storage.blobs().has(digest)) return;
    ManifestInfo info = parse_manifest(storage.blobs().read(digest), media_type);
    for (auto& b : info.blobs) {
      out << repo << ": marking blob " << b << "\n";
      marked.insert(b);
    }
    for (auto& child : info.manifests) {
      auto m = storage.resolve(repo, child);
      if (m) mark_manifest(repo, m->digest, m->media_type);
    }
  }
};

}  // namespace

void garbage_collect(const ServerConfig& config, const GcOptions& options, std::ostream& out) {
  Storage storage(config.root);
  Marker marker{storage, out, {}};
  for (auto& repo : storage.repositories()) {
    std::vector<StoredManifest> manifests = storage.manifests(repo);
    std::set<std::string> tagged;
    for (auto& t : storage.tags(repo).value_or(std::vector<std::string>())) {
      auto m = storage.resolve(repo, t);
      if (m) tagged.insert(m->digest);
    }
    if (options.delete_untagged) {
      for (auto& m : manifests)
        if (tagged.count(m.digest)) marker.mark_manifest(repo, m.digest, m.media_type);
      // Referrers (signatures, SBOMs) live as long as what they refer to.
      for (auto& m : manifests)
        for (auto& r : storage.referrers(repo, m.digest))
          if (marker.marked.count(m.digest)) {
            auto rm = storage.resolve(repo, r);
            if (rm) marker.mark_manifest(repo, rm->digest, rm->media_type);
          }
      for (auto& m : manifests) {
        if (marker.marked.count(m.digest)) continue;
        out << repo << ": manifest eligible for deletion " << m.digest << "\n";
        if (!options.dry_run) storage.delete_manifest(repo, m.digest);
      }
    } else {
      for (auto& m : manifests) marker.mark_manifest(repo, m.digest, m.media_type);
    }
  }
  size_t swept = 0;
  for (auto& digest : storage.blobs().list()) {
    if (marker.marked.count(digest)) continue;
    out << "blob eligible for deletion: " << digest << "\n";
    ++swept;
    if (options.dry_run) continue;
    for (auto& repo : storage.repositories()) storage.unlink_blob(repo, digest);
    storage.blobs().remove(digest);
  }
  out << marker.marked.size() << " blobs marked, " << swept << " blobs "
      << (options.dry_run ? "eligible for deletion" : "deleted") << "\n";
}

}  // namespace berth::registry
