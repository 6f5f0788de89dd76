// What the registry needs to know of a pushed manifest: its media type, the blobs and
// child manifests it references (which must already be in the repository), its subject
// for the referrers API, and the descriptor fields the referrers index lists.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace berth::registry {

// Pushes larger than this are refused; the spec asks registries to take at least 4 MiB.
constexpr size_t kMaxManifestBytes = 4 << 20;

// The four manifest media types the registry stores and serves.
bool is_manifest_media_type(const std::string& media_type);

struct ManifestInfo {
  std::string media_type;
  std::vector<std::string> blobs;      // config and layers, without foreign (url) layers
  std::vector<std::string> manifests;  // an index's children
  std::optional<std::string> subject;
  std::string artifact_type;  // the referrers API's artifactType
  nlohmann::json annotations;
};

// Parses a pushed manifest sent with `content_type` (may be empty: the body's mediaType
// then says). Throws RegistryError MANIFEST_INVALID naming what is wrong.
ManifestInfo parse_manifest(std::string_view body, const std::string& content_type);

}  // namespace berth::registry
