#include "registry/server_manifest.h"

#include "image/digest.h"
#include "registry/server_error.h"

namespace berth::registry {

namespace {

constexpr const char* kDockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
constexpr const char* kDockerList = "application/vnd.docker.distribution.manifest.list.v2+json";
constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";

[[noreturn]] void invalid(const std::string& why) {
  throw RegistryError(ErrorCode::kManifestInvalid, "manifest invalid", nlohmann::json(why));
}

std::string descriptor_digest(const nlohmann::json& d, const std::string& where) {
  if (!d.is_object() || !d.contains("digest") || !d["digest"].is_string())
    invalid(where + ": descriptor without a digest");
  std::string digest = d["digest"];
  if (!image::is_digest(digest)) invalid(where + ": bad digest " + digest);
  if (d.contains("size") && !d["size"].is_number_unsigned())
    invalid(where + ": descriptor size is not a number");
  return digest;
}

}  // namespace

bool is_manifest_media_type(const std::string& media_type) {
  return media_type == kDockerManifest || media_type == kDockerList || media_type == kOciManifest ||
         media_type == kOciIndex;
}

ManifestInfo parse_manifest(std::string_view body, const std::string& content_type) {
  nlohmann::json doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object()) invalid("not a JSON object");
  if (doc.value("schemaVersion", 0) != 2)
    invalid("schemaVersion must be 2 (schema 1 manifests are not accepted)");
  std::string body_type = doc.contains("mediaType") && doc["mediaType"].is_string()
                              ? doc["mediaType"].get<std::string>()
                              : "";
  ManifestInfo info;
  info.media_type = content_type.empty() ? body_type : content_type;
  if (info.media_type.empty()) {
    // OCI lets mediaType out of the body; the client then must say it in Content-Type.
    invalid("no media type: neither Content-Type nor the body's mediaType says it");
  }
  if (!body_type.empty() && body_type != info.media_type)
    invalid("Content-Type " + info.media_type + " but the body's mediaType is " + body_type);
  if (!is_manifest_media_type(info.media_type))
    invalid("unsupported manifest media type " + info.media_type);

  bool index = info.media_type == kDockerList || info.media_type == kOciIndex;
  if (index) {
    if (!doc.contains("manifests") || !doc["manifests"].is_array())
      invalid("an index needs a manifests array");
    for (auto& m : doc["manifests"]) info.manifests.push_back(descriptor_digest(m, "manifests"));
  } else {
    if (!doc.contains("config")) invalid("a manifest needs a config");
    info.blobs.push_back(descriptor_digest(doc["config"], "config"));
    if (!doc.contains("layers") || !doc["layers"].is_array())
      invalid("a manifest needs a layers array");
    for (auto& l : doc["layers"]) {
      std::string digest = descriptor_digest(l, "layers");
      // Foreign layers (Windows base images) live at their urls, not in the registry.
      if (l.contains("urls")) continue;
      info.blobs.push_back(digest);
    }
    if (doc["config"].contains("mediaType") && doc["config"]["mediaType"].is_string())
      info.artifact_type = doc["config"]["mediaType"];
  }
  if (doc.contains("artifactType")) {
    if (!doc["artifactType"].is_string()) invalid("artifactType is not a string");
    info.artifact_type = doc["artifactType"];
  }
  if (doc.contains("subject")) info.subject = descriptor_digest(doc["subject"], "subject");
  if (doc.contains("annotations") && doc["annotations"].is_object())
    info.annotations = doc["annotations"];
  return info;
}

}  // namespace berth::registry
