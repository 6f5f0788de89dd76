#include "image/manifest.h"

#include <sys/utsname.h>

#include "base/error.h"
#include "image/digest.h"

namespace berth::image {
namespace {

using nlohmann::json;

json parse_json(const std::string& text, const char* what) {
  try {
    return json::parse(text);
  } catch (const json::parse_error& e) {
    throw InvalidArgument(std::string(what) + ": malformed JSON: " + e.what());
  }
}

std::string str(const json& j, const char* key, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return "";
  if (!it->is_string()) throw Error(where + "." + key + ": expected a string");
  return it->get<std::string>();
}

Descriptor parse_descriptor(const json& j, const std::string& where) {
  if (!j.is_object()) throw Error(where + ": expected an object");
  Descriptor d;
  d.media_type = str(j, "mediaType", where);
  d.digest = str(j, "digest", where);
  if (!is_digest(d.digest)) throw Error(where + ".digest: invalid digest \"" + d.digest + "\"");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_integer() || size->get<int64_t>() < 0)
    throw Error(where + ".size: expected a non-negative integer");
  d.size = size->get<int64_t>();
  if (auto p = j.find("platform"); p != j.end() && p->is_object()) {
    d.platform =
        Platform{str(*p, "os", where + ".platform"), str(*p, "architecture", where + ".platform"),
                 str(*p, "variant", where + ".platform")};
  }
  if (auto a = j.find("annotations"); a != j.end() && a->is_object()) {
    for (auto& [k, v] : a->items())
      if (v.is_string()) d.annotations[k] = v.get<std::string>();
  }
  return d;
}

std::vector<Descriptor> parse_descriptors(const json& j, const char* key,
                                          const std::string& where) {
  std::vector<Descriptor> out;
  auto it = j.find(key);
  if (it == j.end()) throw Error(where + "." + key + ": required");
  if (!it->is_array()) throw Error(where + "." + key + ": expected an array");
  for (size_t i = 0; i < it->size(); i++)
    out.push_back(parse_descriptor((*it)[i], where + "." + key + "[" + std::to_string(i) + "]"));
  return out;
}

}  // namespace

DocumentKind detect_document(const std::string& text) {
  auto j = parse_json(text, "manifest");
  if (!j.is_object()) throw Error("manifest: expected an object");
  auto mt = str(j, "mediaType", "manifest");
  if (mt == media_type::kOciIndex || mt == media_type::kDockerManifestList)
    return DocumentKind::kIndex;
  if (mt == media_type::kOciManifest || mt == media_type::kDockerManifest)
    return DocumentKind::kManifest;
  if (!mt.empty()) throw Error("manifest: unsupported mediaType \"" + mt + "\"");
  // OCI allows documents without mediaType: tell them by their members.
  if (j.contains("manifests")) return DocumentKind::kIndex;
  if (j.contains("layers")) return DocumentKind::kManifest;
  throw Error("manifest: neither a manifest nor an index");
}

Manifest parse_manifest(const std::string& text) {
  auto j = parse_json(text, "manifest");
  if (!j.is_object()) throw Error("manifest: expected an object");
  if (j.value("schemaVersion", 0) != 2)
    throw Error("manifest: schemaVersion: only version 2 is supported");
  Manifest m;
  m.media_type = str(j, "mediaType", "manifest");
  if (!j.contains("config")) throw Error("manifest.config: required");
  m.config = parse_descriptor(j["config"], "manifest.config");
  m.layers = parse_descriptors(j, "layers", "manifest");
  return m;
}

Index parse_index(const std::string& text) {
  auto j = parse_json(text, "index");
  if (!j.is_object()) throw Error("index: expected an object");
  if (j.value("schemaVersion", 0) != 2)
    throw Error("index: schemaVersion: only version 2 is supported");
  Index idx;
  idx.media_type = str(j, "mediaType", "index");
  idx.manifests = parse_descriptors(j, "manifests", "index");
  return idx;
}

ImageConfig parse_image_config(const std::string& text) {
  auto j = parse_json(text, "image config");
  if (!j.is_object()) throw Error("image config: expected an object");
  ImageConfig c;
  c.architecture = str(j, "architecture", "image config");
  c.os = str(j, "os", "image config");
  c.variant = str(j, "variant", "image config");
  c.created = str(j, "created", "image config");
  c.author = str(j, "author", "image config");
  if (auto cfg = j.find("config"); cfg != j.end() && cfg->is_object()) c.config = *cfg;
  auto rootfs = j.find("rootfs");
  if (rootfs == j.end() || !rootfs->is_object()) throw Error("image config.rootfs: required");
  if (str(*rootfs, "type", "image config.rootfs") != "layers")
    throw Error("image config.rootfs.type: must be \"layers\"");
  auto ids = rootfs->find("diff_ids");
  if (ids == rootfs->end() || !ids->is_array())
    throw Error("image config.rootfs.diff_ids: expected an array");
  for (size_t i = 0; i < ids->size(); i++) {
    const auto& d = (*ids)[i];
    if (!d.is_string() || !is_digest(d.get<std::string>()))
      throw Error("image config.rootfs.diff_ids[" + std::to_string(i) + "]: invalid digest");
    c.diff_ids.push_back(d.get<std::string>());
  }
  if (auto h = j.find("history"); h != j.end() && h->is_array()) {
    for (auto& e : *h) {
      if (!e.is_object()) continue;
      HistoryEntry he;
      he.created = str(e, "created", "image config.history");
      he.created_by = str(e, "created_by", "image config.history");
      he.author = str(e, "author", "image config.history");
      he.comment = str(e, "comment", "image config.history");
      he.empty_layer = e.value("empty_layer", false);
      c.history.push_back(he);
    }
  }
  return c;
}

std::string image_id(const std::string& config_text) {
  return sha256_digest(config_text);
}

std::string host_architecture() {
  utsname u{};
  ::uname(&u);
  std::string m = u.machine;
  if (m == "x86_64") return "amd64";
  if (m == "aarch64") return "arm64";
  if (m == "armv7l") return "arm";
  if (m == "i686") return "386";
  return m;
}

}  // namespace berth::image
