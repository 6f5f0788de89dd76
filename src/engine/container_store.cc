#include "engine/container_store.h"

#include "base/error.h"
#include "base/log.h"

namespace berth::engine {

ContainerStore::ContainerStore(Db& db) : db_(db) {
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS containers(
      id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, data TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS container_health(id TEXT PRIMARY KEY, data TEXT NOT NULL);
  )");
  Statement st(db_, "SELECT id, data FROM containers");
  while (st.step()) {
    try {
      auto c = Container::from_json(nlohmann::json::parse(st.text(1)));
      by_name_[c.name] = c.id;
      by_id_[c.id] = std::move(c);
    } catch (const std::exception& e) {
      log::error("container " + st.text(0) + " has an unreadable record: " + e.what());
    }
  }
  // Each probe's result is written here alone (a small row, not the whole record); it is
  // newer than the health in the container's record.
  Statement health(db_, "SELECT id, data FROM container_health");
  while (health.step())
    if (auto it = by_id_.find(health.text(0)); it != by_id_.end()) {
      auto j = nlohmann::json::parse(health.text(1), nullptr, false);
      if (j.is_object()) it->second.state.health = health_from_json(j);
    }
}

void ContainerStore::persist(const Container& c) {
  Statement(db_, "INSERT OR REPLACE INTO containers(id, name, data) VALUES(?,?,?)")
      .bind(1, c.id)
      .bind(2, c.name)
      .bind(3, c.to_json().dump())
      .run();
}

void ContainerStore::add(const Container& c) {
  std::lock_guard lk(mu_);
  if (auto it = by_name_.find(c.name); it != by_name_.end())
    throw Conflict("Conflict. The container name \"/" + c.name +
                   "\" is already in use by container \"" + it->second +
                   "\". You have to remove (or rename) that container to be able to reuse "
                   "that name.");
  persist(c);
  by_name_[c.name] = c.id;
  by_id_[c.id] = c;
}

void ContainerStore::update(const Container& c) {
  std::lock_guard lk(mu_);
  auto it = by_id_.find(c.id);
  if (it == by_id_.end()) return;  // removed meanwhile
  Container next = c;
  next.state.health = it->second.state.health;
  persist(next);
  it->second = std::move(next);
}

void ContainerStore::set_health(const std::string& id,
                                const std::optional<ContainerHealth>& health) {
  std::lock_guard lk(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  it->second.state.health = health;
  if (!health) {
    Statement(db_, "DELETE FROM container_health WHERE id = ?").bind(1, id).run();
    return;
  }
  Statement(db_, "INSERT OR REPLACE INTO container_health(id, data) VALUES(?,?)")
      .bind(1, id)
      .bind(2, to_json(*health).dump())
      .run();
}

void ContainerStore::set_oom_killed(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end() || it->second.state.oom_killed) return;
  it->second.state.oom_killed = true;
  persist(it->second);
}

void ContainerStore::remove(const std::string& id) {
  std::lock_guard lk(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  Statement(db_, "DELETE FROM containers WHERE id = ?").bind(1, id).run();
  Statement(db_, "DELETE FROM container_health WHERE id = ?").bind(1, id).run();
  by_name_.erase(it->second.name);
  by_id_.erase(it);
}

void ContainerStore::rename(const std::string& id, const std::string& name) {
  std::lock_guard lk(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) throw NotFound("No such container: " + id);
  if (auto other = by_name_.find(name); other != by_name_.end())
    throw Conflict("Conflict. The container name \"/" + name +
                   "\" is already in use by container \"" + other->second +
                   "\". You have to remove (or rename) that container to be able to reuse "
                   "that name.");
  Container c = it->second;
  c.name = name;
  persist(c);
  by_name_.erase(it->second.name);
  by_name_[name] = id;
  it->second = c;
}

std::optional<std::string> ContainerStore::resolve_locked(const std::string& raw) const {
  if (raw.empty()) return std::nullopt;
  if (by_id_.count(raw)) return raw;
  std::string name = raw[0] == '/' ? raw.substr(1) : raw;
  if (auto it = by_name_.find(name); it != by_name_.end()) return it->second;
  auto it = by_id_.lower_bound(raw);
  if (it == by_id_.end() || it->first.compare(0, raw.size(), raw) != 0) return std::nullopt;
  auto next = std::next(it);
  if (next != by_id_.end() && next->first.compare(0, raw.size(), raw) == 0)
    throw InvalidArgument("multiple IDs found with provided prefix: " + raw);
  return it->first;
}

std::optional<Container> ContainerStore::find(const std::string& ref) const {
  std::lock_guard lk(mu_);
  auto id = resolve_locked(ref);
  if (!id) return std::nullopt;
  return by_id_.at(*id);
}

Container ContainerStore::get(const std::string& ref) const {
  auto c = find(ref);
  if (!c) throw NotFound("No such container: " + ref);
  return *c;
}

std::vector<Container> ContainerStore::list() const {
  std::lock_guard lk(mu_);
  std::vector<Container> out;
  for (auto& [id, c] : by_id_) out.push_back(c);
  return out;
}

}  // namespace berth::engine
