// Volume records (one JSON document per row of berth.db) and their directories. A create
// writes the record before the directory and a remove deletes the record before the
// directory, so a kill -9 at any point leaves either a record whose directory is made again
// on use, or a directory without a record that the next start deletes: never a volume that
// is listed without data nor data that no one can list.
#include <sys/stat.h>

#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "volume/local_mount.h"
#include "volume/volume.h"

namespace berth::volume {
namespace {

using nlohmann::json;

constexpr const char* kSchema = R"(
    CREATE TABLE IF NOT EXISTS volumes(name TEXT PRIMARY KEY, data TEXT NOT NULL);
)";

std::string random_name() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static const char* hex = "0123456789abcdef";
  std::string s(64, '0');
  for (auto& ch : s) ch = hex[rng() & 15];
  return s;
}

json to_record(const Volume& v) {
  return {{"name", v.name},
          {"driver", v.driver},
          {"created_at", v.created_at},
          {"labels", v.labels},
          {"options", v.options}};
}

}  // namespace

void check_name(const std::string& name) {
  if (name.size() == 1)
    throw InvalidArgument(
        "volume name is too short, names should be at least two "
        "alphanumeric characters");
  static const std::regex re("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$");
  if (!std::regex_match(name, re))
    throw InvalidArgument("\"" + name +
                          "\" includes invalid characters for a local volume name, only "
                          "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass "
                          "a host directory, use absolute path");
}

VolumeStore::VolumeStore(Db& db, std::string root) : db_(db), root_(std::move(root)) {
  db_.exec(kSchema);
  mkdir_p(root_, 0701);
  std::set<std::string> known;
  for (auto& v : list()) known.insert(v.name);
  for (auto& entry : list_dir(root_)) {
    if (known.count(entry)) continue;
    // A remove that a kill -9 interrupted: the record went first, the data follows it now.
    std::string dir = dir_of(entry);
    if (is_mountpoint(dir + "/_data")) unmount_local(dir + "/_data");
    log::info("removing the data of volume " + entry + ", which was being removed");
    remove_all(dir);
  }
}

Volume VolumeStore::from_record(const std::string& data) const {
  auto j = json::parse(data);
  Volume v;
  v.name = j.at("name");
  v.driver = j.value("driver", "local");
  v.created_at = j.value("created_at", "");
  v.labels = j.value("labels", std::map<std::string, std::string>{});
  v.options = j.value("options", std::map<std::string, std::string>{});
  v.mountpoint = dir_of(v.name) + "/_data";
  return v;
}

Volume VolumeStore::create(const CreateOptions& opts, bool* created) {
  std::string name = opts.name.empty() ? random_name() : opts.name;
  auto op = [&](const std::exception& e) -> void { rethrow_with_context(e, "create " + name); };
  try {
    check_name(name);
    if (opts.driver != "local")
      throw NotFound("error looking up volume plugin " + opts.driver + ": plugin \"" + opts.driver +
                     "\" not found");
    check_local_options(opts.options);
  } catch (const std::exception& e) {
    op(e);
  }
  std::lock_guard lock(db_.mutex());
  if (auto existing = find(name)) {
    if (created) *created = false;
    return *existing;
  }
  Volume v;
  v.name = name;
  v.driver = opts.driver;
  v.created_at = now_rfc3339();
  v.labels = opts.labels;
  v.options = opts.options;
  v.mountpoint = dir_of(name) + "/_data";
  Statement(db_, "INSERT INTO volumes(name, data) VALUES(?,?)")
      .bind(1, name)
      .bind(2, to_record(v).dump())
      .run();
  try {
    mkdir_p(dir_of(name), 0701);
    mkdir_p(v.mountpoint, 0755);
  } catch (const std::exception& e) {
    Statement(db_, "DELETE FROM volumes WHERE name = ?").bind(1, name).run();
    remove_all(dir_of(name));
    op(e);
  }
  if (created) *created = true;
  return v;
}

std::optional<Volume> VolumeStore::find(const std::string& name) const {
  Statement st(db_, "SELECT data FROM volumes WHERE name = ?");
  st.bind(1, name);
  if (!st.step()) return std::nullopt;
  return from_record(st.text(0));
}

Volume VolumeStore::get(const std::string& name) const {
  auto v = find(name);
  if (!v) throw NotFound("get " + name + ": no such volume");
  return *v;
}

std::vector<Volume> VolumeStore::list() const {
  std::vector<Volume> out;
  Statement st(db_, "SELECT data FROM volumes ORDER BY name");
  while (st.step()) out.push_back(from_record(st.text(0)));
  return out;
}

void VolumeStore::remove(const std::string& name) {
  auto v = get(name);
  unmount(v);
  Statement(db_, "DELETE FROM volumes WHERE name = ?").bind(1, name).run();
  remove_all(dir_of(name));
}

std::string VolumeStore::mount(const Volume& v) {
  // A record whose directory a crash kept from being made gets it now.
  mkdir_p(v.mountpoint, 0755);
  if (!v.options.empty() && !is_mountpoint(v.mountpoint)) {
    try {
      mount_local(v.options, v.mountpoint);
    } catch (const std::exception& e) {
      rethrow_with_context(e, "error while mounting volume '" + v.mountpoint + "'");
    }
  }
  return v.mountpoint;
}

void VolumeStore::unmount(const Volume& v) {
  if (!v.options.empty() && is_mountpoint(v.mountpoint)) unmount_local(v.mountpoint);
}

int64_t VolumeStore::size(const Volume& v) const {
  if (!v.options.empty() && !is_mountpoint(v.mountpoint)) return -1;
  return tree_size(v.mountpoint);
}

}  // namespace berth::volume
