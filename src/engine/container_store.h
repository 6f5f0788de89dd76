// Containers in SQLite (WAL) with an in-memory index: by id, by name, by unique id prefix.
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/sqlite.h"
#include "engine/container.h"

namespace berth::engine {

class ContainerStore {
 public:
  explicit ContainerStore(Db& db);

  // Throws Conflict in Docker's words when the name is taken.
  void add(const Container& c);
  // Everything but the health, which only set_health writes (the health monitor owns it, and
  // other writers hold copies taken before its last probe).
  void update(const Container& c);
  void set_health(const std::string& id, const std::optional<ContainerHealth>& health);
  // The OOM killer took one of the running container's processes: dockerd's OOMKilled says
  // so at once, before any exit.
  void set_oom_killed(const std::string& id);
  void remove(const std::string& id);
  void rename(const std::string& id, const std::string& name);
  // By full id, name (with or without '/') or unique id prefix; throws NotFound
  // "No such container: <ref>" or InvalidArgument for an ambiguous prefix.
  Container get(const std::string& ref) const;
  std::optional<Container> find(const std::string& ref) const;
  std::vector<Container> list() const;

 private:
  std::optional<std::string> resolve_locked(const std::string& ref) const;
  void persist(const Container& c);

  Db& db_;
  mutable std::mutex mu_;
  std::map<std::string, Container> by_id_;
  std::map<std::string, std::string> by_name_;
};

}  // namespace berth::engine
