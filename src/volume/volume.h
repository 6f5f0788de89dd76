// Local volumes, as Docker's "local" driver keeps them: a directory volumes/<name>/_data, or
// a mount of what the options name (tmpfs, a bind of a host directory, a device) made on
// that directory while a container uses it. The records live in berth.db; which containers
// use a volume is the engine's to say, never the store's.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/sqlite.h"

namespace berth::volume {

// Docker 23+ marks the volumes it creates for one container (-v /ctr, an image's VOLUME) so
// that `volume prune` takes only those unless asked for all.
inline constexpr const char* kAnonymousLabel = "com.docker.volume.anonymous";

struct Volume {
  std::string name;
  std::string driver = "local";
  std::string created_at;  // RFC 3339
  std::map<std::string, std::string> labels;
  std::map<std::string, std::string> options;  // the local driver's: type, device, o
  std::string mountpoint;                      // .../volumes/<name>/_data

  bool anonymous() const { return labels.count(kAnonymousLabel) > 0; }
};

struct CreateOptions {
  std::string name;  // "": a random one
  std::string driver = "local";
  std::map<std::string, std::string> labels, options;
};

class VolumeStore {
 public:
  // `root` is the data root's volumes/ directory. Directories that lost their record (a kill
  // -9 during a remove) are deleted now.
  VolumeStore(Db& db, std::string root);

  // Docker's create: an existing volume of that name is returned as it is (same driver), a
  // bad name or option is InvalidArgument in Docker's words. `created` says which it was.
  Volume create(const CreateOptions& opts, bool* created = nullptr);
  std::optional<Volume> find(const std::string& name) const;
  // NotFound "get NAME: no such volume".
  Volume get(const std::string& name) const;
  std::vector<Volume> list() const;
  // Unmounts what its options mounted and deletes record and data. The caller checked that
  // no container uses it.
  void remove(const std::string& name);

  // Makes the volume's data ready (its options' mount, made once) and returns _data.
  std::string mount(const Volume& v);
  // Undoes mount() for a volume with options; a plain directory has nothing to undo.
  void unmount(const Volume& v);
  // Bytes in the volume's data (Docker's UsageData.Size), -1 when it is a mount that is not
  // made now.
  int64_t size(const Volume& v) const;

 private:
  std::string dir_of(const std::string& name) const { return root_ + "/" + name; }
  Volume from_record(const std::string& data) const;

  Db& db_;
  std::string root_;
};

// Copies the image's content at `source` (a directory) into an empty volume's `target`
// (Docker's copy-up): owners, modes, times, extended attributes, symlinks, hard links and
// special files kept. Does nothing when `target` is not empty.
void copy_up(int source_dir_fd, const std::string& target);

// Checks a volume name with Docker's rule and words (InvalidArgument).
void check_name(const std::string& name);

}  // namespace berth::volume
