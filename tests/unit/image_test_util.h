// Helpers for the image module's tests: tar archives built in memory with libarchive (files,
// dirs, symlinks, hard links, whiteouts, devices, sparse entries; plain, gzip or zstd), image
// configs, docker-save and OCI-layout archives, and a fixture with a temporary data root holding
// a real SQLite database, a content store and an overlay root.
#pragma once

#include <archive.h>
#include <archive_entry.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "base/sqlite.h"
#include "image/content_store.h"
#include "image/digest.h"
#include "image/image_store.h"
#include "image/stream.h"
#include "support/file.h"
#include "support/temp_dir.h"

namespace berth::image::testutil {

namespace fs = std::filesystem;
using test::slurp;

struct TarEntry {
  std::string path{};
  mode_t type = AE_IFREG;
  std::string data{};
  std::string link{};      // symlink target
  std::string hardlink{};  // hard link target (type is ignored)
  unsigned mode = 0644;
  dev_t rdev = 0;
  int64_t declared_size = -1;                       // header size; data.size() when < 0
  std::vector<std::pair<int64_t, int64_t>> sparse;  // (offset, length) of the data chunks
};

inline TarEntry file(std::string path, std::string data, unsigned mode = 0644) {
  TarEntry e;
  e.path = std::move(path);
  e.data = std::move(data);
  e.mode = mode;
  return e;
}
inline TarEntry dir(std::string path, unsigned mode = 0755) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFDIR;
  e.mode = mode;
  return e;
}
inline TarEntry symlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.type = AE_IFLNK;
  e.link = std::move(target);
  e.mode = 0777;
  return e;
}
inline TarEntry hardlink(std::string path, std::string target) {
  TarEntry e;
  e.path = std::move(path);
  e.hardlink = std::move(target);
  return e;
}
// An OCI/Docker whiteout for `path` ("a/b" -> "a/.wh.b").
inline TarEntry whiteout(const std::string& path) {
  auto slash = path.rfind('/');
  std::string d = slash == std::string::npos ? "" : path.substr(0, slash + 1);
  std::string n = slash == std::string::npos ? path : path.substr(slash + 1);
  return file(d + ".wh." + n, "");
}
inline TarEntry opaque(const std::string& dir_path) {
  return file(dir_path + "/.wh..wh..opq", "");
}
inline TarEntry device(std::string path, mode_t type, dev_t rdev) {
  TarEntry e;
  e.path = std::move(path);
  e.type = type;
  e.rdev = rdev;
  e.mode = 0666;
  return e;
}

enum class Filter { kNone, kGzip, kZstd };

inline la_ssize_t append_cb(archive*, void* ctx, const void* buf, size_t len) {
  static_cast<std::string*>(ctx)->append(static_cast<const char*>(buf), len);
  return static_cast<la_ssize_t>(len);
}

// A tar archive in memory. Throws std::runtime_error when libarchive refuses an entry.
inline std::string make_tar(const std::vector<TarEntry>& entries, Filter filter = Filter::kNone) {
  std::string out;
  std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                            archive_write_free);
  auto check = [&](int rc, const char* what) {
    if (rc < ARCHIVE_WARN)
      throw std::runtime_error(
          std::string("make_tar: ") + what + ": " +
          (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  };
  check(archive_write_set_format_pax_restricted(a.get()), "format");
  if (filter == Filter::kGzip) check(archive_write_add_filter_gzip(a.get()), "gzip");
  if (filter == Filter::kZstd) check(archive_write_add_filter_zstd(a.get()), "zstd");
  // No zero padding after a compressed stream: zstd refuses trailing garbage.
  if (filter != Filter::kNone) archive_write_set_bytes_in_last_block(a.get(), 1);
  check(archive_write_open(a.get(), &out, nullptr, append_cb, nullptr), "open");
  for (auto& en : entries) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_pathname(e.get(), en.path.c_str());
    if (!en.hardlink.empty()) {
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_hardlink(e.get(), en.hardlink.c_str());
    } else {
      archive_entry_set_filetype(e.get(), en.type);
    }
    archive_entry_set_perm(e.get(), en.mode);
    archive_entry_set_mtime(e.get(), 1700000000, 0);
    if (en.type == AE_IFLNK) archive_entry_set_symlink(e.get(), en.link.c_str());
    if (en.type == AE_IFBLK || en.type == AE_IFCHR) archive_entry_set_rdev(e.get(), en.rdev);
    for (auto& [off, len] : en.sparse) archive_entry_sparse_add_entry(e.get(), off, len);
    bool has_data = en.type == AE_IFREG && en.hardlink.empty();
    int64_t size = en.declared_size >= 0 ? en.declared_size
                                         : static_cast<int64_t>(has_data ? en.data.size() : 0);
    archive_entry_set_size(e.get(), size);
    check(archive_write_header(a.get(), e.get()), "header");
    if (has_data && !en.data.empty())
      if (archive_write_data(a.get(), en.data.data(), en.data.size()) < 0)
        check(ARCHIVE_FATAL, "data");
  }
  check(archive_write_close(a.get()), "close");
  return out;
}

// A tar written by hand, for what libarchive will not write: regular files and dirs, each
// with optional pax records (e.g. GNU sparse 0.1: "GNU.sparse.size" and "GNU.sparse.map",
// which declare a real size far beyond the stored bytes).
struct RawEntry {
  std::string path;
  std::string data;  // the stored bytes
  char type = '0';   // '0' file, '5' dir
  std::vector<std::pair<std::string, std::string>> pax;
};

inline std::string ustar_header(const std::string& name, uint64_t size, char type) {
  char h[512] = {};
  std::snprintf(h, 100, "%s", name.c_str());
  std::snprintf(h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
  std::snprintf(h + 108, 8, "%07o", 0);
  std::snprintf(h + 116, 8, "%07o", 0);
  std::snprintf(h + 124, 12, "%011llo", static_cast<unsigned long long>(size));
  std::snprintf(h + 136, 12, "%011o", 1700000000u);
  std::memset(h + 148, ' ', 8);
  h[156] = type;
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char c : h) sum += c;
  std::snprintf(h + 148, 8, "%06o", sum);
  h[155] = ' ';
  return std::string(h, 512);
}

inline std::string pad512(std::string s) {
  s.append((512 - s.size() % 512) % 512, '\0');
  return s;
}

inline std::string raw_tar(const std::vector<RawEntry>& entries) {
  std::string out;
  for (auto& e : entries) {
    if (!e.pax.empty()) {
      std::string records;
      for (auto& [k, v] : e.pax) {
        std::string body = " " + k + "=" + v + "\n";
        size_t len = body.size() + 1;
        while (std::to_string(len).size() + body.size() != len) len++;
        records += std::to_string(len) + body;
      }
      out += ustar_header("PaxHeaders/" + e.path.substr(0, 80), records.size(), 'x');
      out += pad512(records);
    }
    out += ustar_header(e.path, e.type == '0' ? e.data.size() : 0, e.type);
    if (e.type == '0') out += pad512(e.data);
  }
  out.append(1024, '\0');
  return out;
}

// A ReadFn over a copy of `data`, handing it out in chunks of at most `chunk` bytes.
inline ReadFn reader(std::string data, size_t chunk = 1 << 16) {
  auto buf = std::make_shared<std::string>(std::move(data));
  auto pos = std::make_shared<size_t>(0);
  return [buf, pos, chunk](char* out, size_t len) -> size_t {
    size_t n = std::min({len, chunk, buf->size() - *pos});
    std::memcpy(out, buf->data() + *pos, n);
    *pos += n;
    return n;
  };
}

// A minimal image config whose rootfs lists `diff_ids`; `salt` makes ids distinct.
inline std::string config_json(const std::vector<std::string>& diff_ids,
                               const std::string& salt = "", nlohmann::json container = {}) {
  nlohmann::json j = {{"architecture", host_architecture()},
                      {"os", "linux"},
                      {"created", "2024-01-01T00:00:00Z"},
                      {"config", container.is_null() ? nlohmann::json::object() : container},
                      {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}},
                      {"history", nlohmann::json::array()}};
  if (!salt.empty()) j["author"] = salt;
  return j.dump();
}

inline std::string hex_of(const std::string& digest) {
  return digest.substr(digest.find(':') + 1);
}

// One image for an archive: its layers as uncompressed tars (the diff ids come from them).
struct ArchiveImage {
  std::vector<std::string> layers;
  std::vector<std::string> tags;  // as written in the archive ("busybox:latest")
  std::string salt;
  std::string config() const {
    std::vector<std::string> diffs;
    for (auto& l : layers) diffs.push_back(sha256_digest(l));
    return config_json(diffs, salt);
  }
  std::string id() const { return sha256_digest(config()); }
};

// docker save before 25.0: <config hex>.json, <layer dir>/layer.tar and manifest.json. A layer
// shared with an earlier image is written as a symlink to the first copy, as Docker did.
inline std::vector<TarEntry> docker_save_entries(const std::vector<ArchiveImage>& images) {
  std::vector<TarEntry> out;
  nlohmann::json manifest = nlohmann::json::array();
  std::map<std::string, std::string> first_copy;  // layer digest -> its layer.tar path
  int n = 0;
  for (auto& img : images) {
    std::string cfg = img.config();
    std::string cfg_name = hex_of(sha256_digest(cfg)) + ".json";
    out.push_back(file(cfg_name, cfg));
    nlohmann::json layers = nlohmann::json::array();
    for (auto& l : img.layers) {
      // Docker names the directory by a v1 id; any unique name will do here.
      std::string d = "layerdir" + std::to_string(n++);
      std::string path = d + "/layer.tar";
      out.push_back(dir(d));
      out.push_back(file(d + "/VERSION", "1.0"));
      std::string digest = sha256_digest(l);
      if (auto it = first_copy.find(digest); it != first_copy.end()) {
        out.push_back(symlink(path, "../" + it->second));
      } else {
        out.push_back(file(path, l));
        first_copy[digest] = path;
      }
      layers.push_back(path);
    }
    manifest.push_back({{"Config", cfg_name}, {"RepoTags", img.tags}, {"Layers", layers}});
  }
  out.push_back(file("manifest.json", manifest.dump()));
  return out;
}

inline TarEntry blob(const std::string& data) {
  return file("blobs/sha256/" + hex_of(sha256_digest(data)), data);
}

// An OCI manifest (returned as text) for `img`, whose layer blobs are gzip-compressed when
// `gzip`; the blobs it needs are appended to `out`.
inline std::string oci_manifest(const ArchiveImage& img, bool gzip, std::vector<TarEntry>& out) {
  std::string cfg = img.config();
  out.push_back(blob(cfg));
  nlohmann::json layers = nlohmann::json::array();
  for (auto& l : img.layers) {
    std::string data = l;
    if (gzip) {
      // A gzip stream of the layer tar: wrap the bytes in a raw-format archive.
      std::string z;
      std::unique_ptr<archive, decltype(&archive_write_free)> a(archive_write_new(),
                                                                archive_write_free);
      archive_write_set_format_raw(a.get());
      archive_write_add_filter_gzip(a.get());
      archive_write_open(a.get(), &z, nullptr, append_cb, nullptr);
      std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                      archive_entry_free);
      archive_entry_set_filetype(e.get(), AE_IFREG);
      archive_entry_set_size(e.get(), static_cast<int64_t>(l.size()));
      archive_write_header(a.get(), e.get());
      archive_write_data(a.get(), l.data(), l.size());
      archive_write_close(a.get());
      data = z;
    }
    out.push_back(blob(data));
    layers.push_back({{"mediaType", gzip ? "application/vnd.oci.image.layer.v1.tar+gzip"
                                         : "application/vnd.oci.image.layer.v1.tar"},
                      {"digest", sha256_digest(data)},
                      {"size", data.size()}});
  }
  nlohmann::json m = {{"schemaVersion", 2},
                      {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
                      {"config",
                       {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                        {"digest", sha256_digest(cfg)},
                        {"size", cfg.size()}}},
                      {"layers", layers}};
  std::string text = m.dump();
  out.push_back(blob(text));
  return text;
}

inline nlohmann::json descriptor(const std::string& text, const std::string& media_type,
                                 nlohmann::json annotations = nullptr) {
  nlohmann::json d = {
      {"mediaType", media_type}, {"digest", sha256_digest(text)}, {"size", text.size()}};
  if (!annotations.is_null()) d["annotations"] = annotations;
  return d;
}

inline std::vector<std::string> list_names(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  if (!fs::exists(dir, ec)) return out;
  for (auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// A data root under /tmp with berth.db, content/ and overlay/, removed after the test.
class StoreFixture : public ::testing::Test {
 protected:
  void SetUp() override { open(); }
  // The stores close before the data root goes.
  void TearDown() override {
    store_.reset();
    content_.reset();
    db_.reset();
  }
  // (Re)opens the database and the stores, as a restarted daemon would.
  void open() {
    store_.reset();
    content_.reset();
    db_.reset();
    db_ = std::make_unique<Db>(root_ + "/berth.db", "");
    content_ = std::make_unique<ContentStore>(root_ + "/content");
    store_ = std::make_unique<ImageStore>(*db_, *content_, root_ + "/overlay");
  }
  std::string overlay() const { return root_ + "/overlay"; }
  std::vector<std::string> blobs() const { return list_names(root_ + "/content/sha256"); }
  std::vector<std::string> overlay_dirs() const { return list_names(overlay()); }
  std::string layer_path(const std::string& chain, const std::string& rel) const {
    return store_->layer_dir(chain) + "/" + rel;
  }
  // Stores a layer tar as a blob, as import and load do; returns its diff id.
  std::string put_layer(const std::string& tar) { return content_->put(tar); }

  test::TempDir dir_{"imgtest"};
  std::string root_ = dir_.path();
  std::unique_ptr<Db> db_;
  std::unique_ptr<ContentStore> content_;
  std::unique_ptr<ImageStore> store_;
};

}  // namespace berth::image::testutil
