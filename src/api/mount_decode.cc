// HostConfig's Binds ("src:dst:mode"), Mounts (objects), Tmpfs ({path: options}) and
// VolumesFrom decoded into typed mounts with dockerd's checks and words. What needs the host
// or the store (a bind source that must exist, a container to copy from) is the engine's.
#include "api/mount_decode.h"

#include <set>
#include <string_view>
#include <utility>

#include "api/container_fields.h"
#include "base/error.h"
#include "base/fs.h"
#include "base/path.h"

namespace berth::api {
namespace {

using engine::MountSpec;
using nlohmann::json;

const char* type_name(MountSpec::Type t) {
  switch (t) {
    case MountSpec::Type::kBind:
      return "bind";
    case MountSpec::Type::kVolume:
      return "volume";
    case MountSpec::Type::kTmpfs:
      return "tmpfs";
  }
  return "";
}

[[noreturn]] void bad_config(MountSpec::Type t, const std::string& why) {
  throw InvalidArgument(std::string("invalid mount config for type \"") + type_name(t) +
                        "\": " + why);
}

// The destination: absolute, not the root, cleaned.
std::string destination(MountSpec::Type t, const std::string& dst) {
  if (dst.empty() || dst[0] != '/')
    bad_config(t, "invalid mount path: '" + dst + "' mount path must be absolute");
  std::string d = clean_path(dst);
  if (d == "/") bad_config(t, "invalid specification: destination can't be '/'");
  return d;
}

const std::set<std::string>& propagations() {
  static const std::set<std::string> p = {"private", "rprivate", "shared",
                                          "rshared", "slave",    "rslave"};
  return p;
}

// One "src:dst[:mode]" of Binds, or "/dst" for an anonymous volume.
MountSpec parse_bind(const std::string& spec) {
  auto bad_spec = [&]() -> void {
    throw InvalidArgument("invalid volume specification: '" + spec + "'");
  };
  auto parts = split(spec, ':');
  MountSpec m;
  m.origin = MountSpec::Origin::kBinds;
  std::string src, dst, mode;
  if (parts.size() == 1) {
    dst = parts[0];
  } else if (parts.size() == 2) {
    src = parts[0];
    dst = parts[1];
  } else if (parts.size() == 3) {
    src = parts[0];
    dst = parts[1];
    mode = parts[2];
  } else {
    bad_spec();
  }
  if (parts.size() >= 2 && src.empty()) bad_spec();
  m.type = !src.empty() && src[0] == '/' ? MountSpec::Type::kBind : MountSpec::Type::kVolume;
  try {
    m.destination = destination(m.type, dst);
  } catch (const std::exception& e) {
    throw InvalidArgument("invalid volume specification: '" + spec + "': " + e.what());
  }
  bool rw_set = false, label = false, propagation = false;
  for (auto& word : split(mode, ',')) {
    if (word.empty()) continue;
    if (word == "ro" || word == "rw") {
      if (rw_set) throw InvalidArgument("invalid mode: " + mode);
      rw_set = true;
      m.read_only = word == "ro";
    } else if (word == "z" || word == "Z") {
      if (label) throw InvalidArgument("invalid mode: " + mode);
      label = true;
    } else if (propagations().count(word)) {
      if (propagation || m.type != MountSpec::Type::kBind)
        throw InvalidArgument("invalid mode: " + mode);
      propagation = true;
      m.propagation = word;
    } else if (word == "nocopy") {
      if (m.type != MountSpec::Type::kVolume)
        throw InvalidArgument("invalid volume specification: '" + spec +
                              "': invalid mount config for type \"bind\": field VolumeOptions "
                              "must not be specified");
      m.no_copy = true;
    } else if (word == "consistent" || word == "cached" || word == "delegated") {
      // Docker Desktop's consistency hints: Linux has one consistency.
    } else {
      throw InvalidArgument("invalid mode: " + mode);
    }
  }
  m.mode = mode;
  if (m.type == MountSpec::Type::kBind) {
    m.source = clean_path(src);
    m.create_host_path = true;
    if (m.propagation.empty()) m.propagation = "rprivate";
  } else {
    m.source = src;
    m.anonymous = src.empty();
    // dockerd shows a -v named volume's default SELinux relabel mode.
    if (!m.anonymous && m.mode.empty()) m.mode = "z";
  }
  return m;
}

std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

bool boolean(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_boolean() && it->get<bool>();
}

const json* object(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::map<std::string, std::string> string_map(const json* j, const char* key) {
  std::map<std::string, std::string> out;
  if (!j) return out;
  if (auto* m = object(*j, key))
    for (auto& [k, v] : m->items())
      if (v.is_string()) out[k] = v.get<std::string>();
  return out;
}

// One object of Mounts, as --mount sends it.
MountSpec parse_mount(const json& j) {
  if (!j.is_object()) throw InvalidArgument("Mounts: expected an object for each mount");
  MountSpec m;
  m.origin = MountSpec::Origin::kMounts;
  std::string type = str(j, "Type");
  if (type == "bind")
    m.type = MountSpec::Type::kBind;
  else if (type == "volume")
    m.type = MountSpec::Type::kVolume;
  else if (type == "tmpfs")
    m.type = MountSpec::Type::kTmpfs;
  else
    throw InvalidArgument("invalid mount config for type \"" + type + "\": mount type unknown");
  std::string target = str(j, "Target");
  if (target.empty()) bad_config(m.type, "field Target must not be empty");
  m.destination = destination(m.type, target);
  m.read_only = boolean(j, "ReadOnly");
  const json* bind = object(j, "BindOptions");
  const json* vol = object(j, "VolumeOptions");
  const json* tmpfs = object(j, "TmpfsOptions");
  std::string source = str(j, "Source");
  if (m.type != MountSpec::Type::kBind && bind)
    bad_config(m.type, "field BindOptions must not be specified");
  if (m.type != MountSpec::Type::kVolume && vol)
    bad_config(m.type, "field VolumeOptions must not be specified");
  if (m.type != MountSpec::Type::kTmpfs && tmpfs)
    bad_config(m.type, "field TmpfsOptions must not be specified");
  switch (m.type) {
    case MountSpec::Type::kBind: {
      if (source.empty()) bad_config(m.type, "field Source must not be empty");
      if (source[0] != '/')
        bad_config(m.type, "invalid mount path: '" + source + "' mount path must be absolute");
      m.source = clean_path(source);
      m.propagation = bind ? str(*bind, "Propagation") : "";
      if (!m.propagation.empty() && !propagations().count(m.propagation))
        bad_config(m.type, "invalid propagation mode: " + m.propagation);
      if (m.propagation.empty()) m.propagation = "rprivate";
      m.non_recursive = bind && boolean(*bind, "NonRecursive");
      if (bind && boolean(*bind, "CreateMountpoint")) m.create_host_path = true;
      m.readonly_non_recursive = bind && boolean(*bind, "ReadOnlyNonRecursive");
      if (m.readonly_non_recursive && bind && boolean(*bind, "ReadOnlyForceRecursive"))
        bad_config(m.type, "cannot set both ReadOnlyNonRecursive and ReadOnlyForceRecursive");
      break;
    }
    case MountSpec::Type::kVolume: {
      m.source = source;
      m.anonymous = source.empty();
      if (vol) {
        m.no_copy = boolean(*vol, "NoCopy");
        m.subpath = str(*vol, "Subpath");
        m.labels = string_map(vol, "Labels");
        if (auto* driver = object(*vol, "DriverConfig")) {
          m.driver = str(*driver, "Name");
          m.driver_opts = string_map(driver, "Options");
        }
      }
      if (!m.subpath.empty()) {
        if (m.subpath[0] == '/')
          bad_config(m.type, "subpath must be a relative path within the volume");
        for (auto& part : split(m.subpath, '/'))
          if (part == "..") bad_config(m.type, "subpath must not escape the volume");
      }
      break;
    }
    case MountSpec::Type::kTmpfs: {
      if (!source.empty()) bad_config(m.type, "field Source must not be specified");
      if (tmpfs) {
        // Go's int64 and uint32: fractions and numbers out of range are refused in Go's
        // words, never converted.
        auto go_number = [&](const json& v, const char* field, const char* type) {
          auto n = as_int64(v);
          if (!n || (std::string_view(type) == "uint32" && !std::in_range<uint32_t>(*n)))
            throw InvalidArgument("json: cannot unmarshal number " + v.dump() +
                                  " into Go struct field TmpfsOptions.HostConfig.Mounts."
                                  "TmpfsOptions." +
                                  field + " of type " + type);
          return *n;
        };
        if (auto it = tmpfs->find("SizeBytes"); it != tmpfs->end() && it->is_number()) {
          m.tmpfs_size = go_number(*it, "SizeBytes", "int64");
          if (m.tmpfs_size < 0) bad_config(m.type, "invalid tmpfs size");
        }
        if (auto it = tmpfs->find("Mode"); it != tmpfs->end() && it->is_number())
          m.tmpfs_mode = static_cast<uint32_t>(go_number(*it, "Mode", "uint32")) & 07777;
        if (auto it = tmpfs->find("Options"); it != tmpfs->end() && it->is_array())
          for (auto& pair : *it)
            if (pair.is_array() && !pair.empty() && pair[0].is_string()) {
              std::string opt = pair[0].get<std::string>();
              if (pair.size() > 1 && pair[1].is_string()) opt += "=" + pair[1].get<std::string>();
              m.tmpfs_options.push_back(opt);
            }
      }
      break;
    }
  }
  return m;
}

}  // namespace

std::vector<MountSpec> decode_mounts(const json& hc) {
  std::vector<MountSpec> out;
  std::set<std::string> seen;
  auto add = [&](MountSpec m) {
    if (!seen.insert(m.destination).second)
      throw InvalidArgument("Duplicate mount point: " + m.destination);
    out.push_back(std::move(m));
  };
  if (auto it = hc.find("Binds"); it != hc.end() && it->is_array())
    for (auto& b : *it)
      if (b.is_string()) add(parse_bind(b.get<std::string>()));
  if (auto it = hc.find("Mounts"); it != hc.end() && it->is_array())
    for (auto& m : *it) add(parse_mount(m));
  if (auto it = hc.find("Tmpfs"); it != hc.end() && it->is_object())
    for (auto& [path, opts] : it->items()) {
      MountSpec m;
      m.type = MountSpec::Type::kTmpfs;
      m.origin = MountSpec::Origin::kTmpfs;
      m.destination = destination(m.type, path);
      if (opts.is_string())
        for (auto& o : split(opts.get<std::string>(), ','))
          if (!o.empty()) m.tmpfs_options.push_back(o);
      add(std::move(m));
    }
  return out;
}

std::vector<engine::VolumesFrom> decode_volumes_from(const json& hc) {
  std::vector<engine::VolumesFrom> out;
  if (auto it = hc.find("VolumesFrom"); it != hc.end() && it->is_array())
    for (auto& v : *it) {
      if (!v.is_string()) continue;
      auto text = v.get<std::string>();
      auto parts = split(text, ':');
      if (parts.size() > 2 || parts[0].empty())
        throw InvalidArgument("invalid volumes-from spec: " + text);
      engine::VolumesFrom f{parts[0], parts.size() == 2 ? parts[1] : ""};
      if (!f.mode.empty() && f.mode != "ro" && f.mode != "rw" && f.mode != "z" && f.mode != "Z")
        throw InvalidArgument("invalid mode: " + f.mode);
      out.push_back(f);
    }
  return out;
}

}  // namespace berth::api
