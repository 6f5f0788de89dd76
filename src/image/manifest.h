// Image manifests, indexes and configs: Docker's v2 schema 2 and the OCI image spec, read
// into one model. Field names follow ../shared/specs/oci-image-spec.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace berth::image {

namespace media_type {
inline constexpr const char* kDockerManifest =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr const char* kDockerManifestList =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr const char* kDockerConfig = "application/vnd.docker.container.image.v1+json";
inline constexpr const char* kDockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip";
inline constexpr const char* kOciManifest = "application/vnd.oci.image.manifest.v1+json";
inline constexpr const char* kOciIndex = "application/vnd.oci.image.index.v1+json";
inline constexpr const char* kOciConfig = "application/vnd.oci.image.config.v1+json";
inline constexpr const char* kOciLayer = "application/vnd.oci.image.layer.v1.tar";
inline constexpr const char* kOciLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr const char* kOciLayerZstd = "application/vnd.oci.image.layer.v1.tar+zstd";
}  // namespace media_type

struct Platform {
  std::string os, architecture, variant;
};

struct Descriptor {
  std::string media_type;
  std::string digest;
  int64_t size = 0;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

struct Manifest {
  std::string media_type;
  Descriptor config;
  std::vector<Descriptor> layers;
};

struct Index {
  std::string media_type;
  std::vector<Descriptor> manifests;
};

struct HistoryEntry {
  std::string created, created_by, author, comment;
  bool empty_layer = false;
};

struct ImageConfig {
  std::string architecture, os, variant, created, author;
  nlohmann::json config;  // the container config (Env, Cmd, Entrypoint, ...) as stored
  std::vector<std::string> diff_ids;
  std::vector<HistoryEntry> history;
};

enum class DocumentKind { kManifest, kIndex };

// Tells a manifest from an index by mediaType (or, without one, by its members).
DocumentKind detect_document(const std::string& text);
Manifest parse_manifest(const std::string& text);
Index parse_index(const std::string& text);
// Throws Error naming the field; rootfs.diff_ids must be digests.
ImageConfig parse_image_config(const std::string& text);

// Docker's GOARCH name of this machine ("amd64", "arm64").
std::string host_architecture();

// The image ID Docker shows: the digest of the config blob.
std::string image_id(const std::string& config_text);

}  // namespace berth::image
