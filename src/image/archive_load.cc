#include "image/archive_load.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/archive_source.h"
#include "image/decompress.h"
#include "image/digest.h"
#include "image/speculative_unpack.h"

namespace berth::image {
namespace {

// JSON documents are kept in memory; anything larger goes to the content store.
constexpr int64_t kSmallFile = 1 << 20;
constexpr uint64_t kSmallTotal = 64u << 20;

[[noreturn]] void bad(const std::string& why) {
  throw InvalidArgument("invalid archive: " + why);
}

// "./a//b" -> "a/b"; nothing is ever written by these names, they only key a map.
std::string normalise(const std::string& raw) {
  std::vector<std::string> parts;
  for (auto& p : split(raw, '/')) {
    if (p.empty() || p == ".") continue;
    if (p == "..") {
      if (parts.empty()) bad(raw + " leaves the archive");
      parts.pop_back();
      continue;
    }
    parts.push_back(p);
  }
  std::string out;
  for (auto& p : parts) out += (out.empty() ? "" : "/") + p;
  return out;
}

// The archive's files, by normalised path: small ones as bytes, large ones as blobs.
class ArchiveFiles {
 public:
  ArchiveFiles(ImageStore& store, ContentStore& content) : store_(store), content_(content) {}
  // The archive's blobs that no image or layer took, and layers unpacked ahead that none did.
  ~ArchiveFiles() {
    pins_.clear();
    try {
      for (auto& d : staged_) store_.drop_staged(d);
      for (auto& [path, digest] : blobs_) store_.discard_blob(digest);
    } catch (const std::exception& e) {
      // collect_garbage() at the next start removes what stays.
      log::error(std::string("cleaning up after a load: ") + e.what());
    }
  }

  void read_all(const ReadFn& src) {
    std::unique_ptr<archive, decltype(&archive_read_free)> a(archive_read_new(), archive_read_free);
    archive_read_support_format_tar(a.get());
    archive_read_support_format_gnutar(a.get());
    archive_read_support_filter_gzip(a.get());
    archive_read_support_filter_zstd(a.get());
    archive_read_support_filter_bzip2(a.get());
    archive_read_support_filter_xz(a.get());
    ArchiveSource s(src);
    auto fail = [&](const std::string& what) { bad(what + ": " + s.error(a.get())); };
    if (s.open(a.get()) != ARCHIVE_OK) fail("open");
    archive_entry* e;
    int rc;
    size_t entries = 0;
    while ((rc = archive_read_next_header(a.get(), &e)) == ARCHIVE_OK || rc == ARCHIVE_WARN) {
      entries++;
      const char* name = archive_entry_pathname(e);
      if (!name) bad("entry without a name");
      std::string path = normalise(name);
      if (const char* hl = archive_entry_hardlink(e)) {
        links_[path] = normalise(hl);
        continue;
      }
      if (archive_entry_filetype(e) == AE_IFLNK) {
        // docker save before 25.0 links a layer shared by two images to the first copy.
        const char* target = archive_entry_symlink(e);
        if (!target) bad(path + ": symlink without a target");
        std::string dir =
            path.find('/') == std::string::npos ? "" : path.substr(0, path.rfind('/'));
        links_[path] = normalise(target[0] == '/' ? target : path_join(dir, target));
        continue;
      }
      if (archive_entry_filetype(e) != AE_IFREG) continue;
      // docker save and OCI layouts never write sparse members; filling the holes of a
      // hostile one would cost memory and disk for bytes the archive never carried.
      if (archive_entry_sparse_count(e) > 0) bad(path + ": sparse members are not supported");
      if (archive_entry_size(e) <= kSmallFile && small_total_ < kSmallTotal) {
        std::string data;
        data.reserve(static_cast<size_t>(archive_entry_size(e)));
        char buf[65536];
        la_ssize_t n;
        while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0)
          data.append(buf, static_cast<size_t>(n));
        if (n < 0) fail(path);
        small_total_ += data.size();
        small_[path] = std::move(data);
        continue;
      }
      auto w = content_.writer();
      std::unique_ptr<SpeculativeUnpack> unpack;
      const void* block;
      size_t size;
      la_int64_t offset;
      int drc;
      uint64_t written = 0;
      std::string zeros;
      // The first bytes are held until there are enough to tell a tar (the outer archive
      // may hand over a first piece shorter than one tar header).
      std::string head;
      bool decided = false;
      auto put = [&](std::string_view data) {
        if (!decided) {
          head.append(data);
          if (head.size() < 512) return;
          decided = true;
          if (looks_like_tar(head))
            unpack = std::make_unique<SpeculativeUnpack>(store_.make_staging_dir());
          data = head;
        }
        w->write(data);
        if (unpack) unpack->feed(data);
      };
      while ((drc = archive_read_data_block(a.get(), &block, &size, &offset)) == ARCHIVE_OK) {
        std::string_view data(static_cast<const char*>(block), size);
        // Sparse entries come back with holes: fill them so the hash covers real bytes.
        if (static_cast<uint64_t>(offset) > written) {
          zeros.assign(static_cast<size_t>(static_cast<uint64_t>(offset) - written), '\0');
          put(zeros);
          written = static_cast<uint64_t>(offset);
        }
        put(data);
        written += size;
      }
      if (drc != ARCHIVE_EOF) fail(path);
      if (!decided) w->write(head);
      std::string digest = w->commit();
      blobs_[path] = digest;
      pins_.push_back(store_.pin({digest}));
      if (unpack) {
        if (auto bytes = unpack->finish()) {
          store_.stage_layer(digest, unpack->dir(), *bytes);
          staged_.push_back(digest);
        }
      }
    }
    if (rc != ARCHIVE_EOF) fail("read");
    if (entries == 0) bad("the archive is empty");
  }

  std::string resolve(std::string path) const {
    for (int depth = 0; depth < 16; depth++) {
      auto it = links_.find(path);
      if (it == links_.end()) return path;
      path = it->second;
    }
    bad(path + ": too many links");
  }

  bool has(const std::string& path) const {
    std::string p = resolve(normalise(path));
    return small_.count(p) || blobs_.count(p);
  }

  std::string text(const std::string& raw) const {
    std::string p = resolve(normalise(raw));
    if (auto it = small_.find(p); it != small_.end()) return it->second;
    if (auto it = blobs_.find(p); it != blobs_.end()) {
      if (content_.size(it->second) > (16u << 20)) bad(raw + " is too large for a document");
      return content_.read(it->second);
    }
    bad(raw + " is missing");
  }

  // Stores the file as an uncompressed layer blob; returns its diff id.
  std::string layer(const std::string& raw) {
    std::string p = resolve(normalise(raw));
    if (auto it = small_.find(p); it != small_.end()) {
      std::string data = it->second;
      size_t pos = 0;
      std::string digest = store_decompressed(content_, [&](char* buf, size_t len) {
        size_t n = std::min(len, data.size() - pos);
        std::memcpy(buf, data.data() + pos, n);
        pos += n;
        return n;
      });
      blobs_["\0small/" + p] = digest;
      pins_.push_back(store_.pin({digest}));
      return digest;
    }
    auto it = blobs_.find(p);
    if (it == blobs_.end()) bad("layer " + raw + " is missing");
    std::string digest = it->second;
    UniqueFd fd = open_or_throw(content_.path(digest), O_RDONLY | O_CLOEXEC);
    char head[8] = {};
    ssize_t n = ::pread(fd.get(), head, sizeof head, 0);
    if (detect_compression(std::string_view(head, n > 0 ? static_cast<size_t>(n) : 0)) ==
        Compression::kNone)
      return digest;
    std::string diff = store_decompressed(content_, [&](char* buf, size_t len) {
      ssize_t r = ::read(fd.get(), buf, len);
      if (r < 0) throw_errno("read " + content_.path(digest));
      return static_cast<size_t>(r);
    });
    blobs_["\0plain/" + p] = diff;
    pins_.push_back(store_.pin({diff}));
    return diff;
  }

  // A blob named blobs/sha256/<hex> must hold what its name says.
  void check_blob_names() const {
    for (auto& [path, digest] : blobs_) check_name(path, digest);
    for (auto& [path, data] : small_) check_name(path, sha256_digest(data));
  }

 private:
  static void check_name(const std::string& path, const std::string& digest) {
    if (path.rfind("blobs/sha256/", 0) != 0) return;
    if ("sha256:" + path.substr(13) != digest)
      bad(path + " does not match its content (" + digest + ")");
  }

  ImageStore& store_;
  ContentStore& content_;
  std::map<std::string, std::string> small_;
  std::map<std::string, std::string> blobs_;
  std::map<std::string, std::string> links_;
  std::vector<std::shared_ptr<void>> pins_;
  std::vector<std::string> staged_;  // digests of layers unpacked while they arrived
  uint64_t small_total_ = 0;
};

struct Pending {
  std::string config_text;
  std::vector<std::string> layer_paths;
  std::vector<std::string> tags;  // full references
};

std::vector<std::string> normalised_tags(const nlohmann::json& j, const std::string& where) {
  std::vector<std::string> out;
  if (!j.is_array()) return out;
  for (auto& t : j) {
    if (!t.is_string()) bad(where + ": tags must be strings");
    try {
      out.push_back(parse_reference_with_default_tag(t.get<std::string>()).string());
    } catch (const std::exception& e) {
      bad(where + ": " + e.what());
    }
  }
  return out;
}

nlohmann::json parse(const std::string& text, const std::string& what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    bad(what + ": malformed JSON: " + e.what());
  }
}

std::vector<Pending> from_docker_manifest(const ArchiveFiles& files) {
  auto j = parse(files.text("manifest.json"), "manifest.json");
  if (!j.is_array()) bad("manifest.json: expected an array");
  std::vector<Pending> out;
  for (auto& m : j) {
    if (!m.is_object() || !m.contains("Config") || !m["Config"].is_string() ||
        !m.contains("Layers") || !m["Layers"].is_array())
      bad("manifest.json: each entry needs Config and Layers");
    Pending p;
    p.config_text = files.text(m["Config"].get<std::string>());
    for (auto& l : m["Layers"]) {
      if (!l.is_string()) bad("manifest.json: Layers must be paths");
      p.layer_paths.push_back(l.get<std::string>());
    }
    if (m.contains("RepoTags")) p.tags = normalised_tags(m["RepoTags"], "manifest.json");
    out.push_back(std::move(p));
  }
  return out;
}

std::string blob_path(const std::string& digest) {
  if (!is_digest(digest)) bad("bad digest " + digest);
  return "blobs/sha256/" + digest.substr(7);
}

void add_oci_manifest(const ArchiveFiles& files, const Descriptor& d, std::vector<Pending>& out,
                      int depth) {
  if (depth > 4) bad("index.json: indexes nested too deep");
  std::string text = files.text(blob_path(d.digest));
  std::string name = d.annotations.count("io.containerd.image.name")
                         ? d.annotations.at("io.containerd.image.name")
                         : "";
  if (detect_document(text) == DocumentKind::kIndex) {
    Index idx = parse_index(text);
    // A multi-platform index: only what runs here is loaded.
    for (auto& m : idx.manifests) {
      if (m.platform &&
          (m.platform->os != "linux" || m.platform->architecture != host_architecture()))
        continue;
      Descriptor sub = m;
      if (!name.empty()) sub.annotations["io.containerd.image.name"] = name;
      // The index's name is the image's name, whichever manifest is picked from it.
      if (auto ref = d.annotations.find("org.opencontainers.image.ref.name");
          ref != d.annotations.end())
        sub.annotations[ref->first] = ref->second;
      add_oci_manifest(files, sub, out, depth + 1);
      return;
    }
    bad("index " + d.digest + " has no manifest for linux/" + host_architecture());
  }
  Manifest m = parse_manifest(text);
  Pending p;
  p.config_text = files.text(blob_path(m.config.digest));
  for (auto& l : m.layers) p.layer_paths.push_back(blob_path(l.digest));
  if (!name.empty()) {
    p.tags = normalised_tags(nlohmann::json::array({name}), "index.json");
  } else if (auto it = d.annotations.find("org.opencontainers.image.ref.name");
             it != d.annotations.end()) {
    // A bare tag ("latest") names nothing by itself; a full reference does.
    if (it->second.find_first_of("/:") != std::string::npos)
      p.tags = normalised_tags(nlohmann::json::array({it->second}), "index.json");
  }
  out.push_back(std::move(p));
}

std::vector<Pending> from_oci_layout(const ArchiveFiles& files) {
  Index idx;
  try {
    idx = parse_index(files.text("index.json"));
  } catch (const InvalidArgument&) {
    throw;
  } catch (const std::exception& e) {
    bad(std::string("index.json: ") + e.what());
  }
  std::vector<Pending> out;
  for (auto& d : idx.manifests) add_oci_manifest(files, d, out, 0);
  return out;
}

}  // namespace

LoadResult load_archive(ImageStore& store, ContentStore& content, const ReadFn& src) {
  // Before the files: when a load fails, the archive's pins are gone by the time its layers
  // are released (a first layer's chain id is its diff id, which they pin too).
  ImageStore::Uncommitted added(store);
  ArchiveFiles files(store, content);
  files.read_all(src);
  files.check_blob_names();
  std::vector<Pending> pending;
  if (files.has("manifest.json")) {
    pending = from_docker_manifest(files);
  } else if (files.has("index.json")) {
    pending = from_oci_layout(files);
  } else {
    bad("neither manifest.json nor index.json found");
  }

  // Every layer is checked against its config before any image is registered.
  std::vector<std::pair<std::string, std::vector<std::string>>> checked;
  for (auto& p : pending) {
    ImageConfig cfg;
    try {
      cfg = parse_image_config(p.config_text);
    } catch (const std::exception& e) {
      bad(e.what());
    }
    if (cfg.diff_ids.size() != p.layer_paths.size())
      bad("image " + image_id(p.config_text) + " has " + std::to_string(p.layer_paths.size()) +
          " layers but its config lists " + std::to_string(cfg.diff_ids.size()));
    for (size_t i = 0; i < p.layer_paths.size(); i++) {
      std::string diff = files.layer(p.layer_paths[i]);
      // The layer's blob goes with its layer when the load fails; kept pinned until then.
      added.add_blob(diff);
      if (diff != cfg.diff_ids[i])
        bad("layer " + p.layer_paths[i] + " has diff id " + diff + ", the config says " +
            cfg.diff_ids[i]);
    }
  }

  // All layers of all images are unpacked before the first image is registered, so that a
  // layer refused in the last image leaves none of the archive behind.
  try {
    for (auto& p : pending) {
      std::string parent;
      for (auto& d : parse_image_config(p.config_text).diff_ids)
        parent = added.ensure_layer(parent, d);
    }
  } catch (const Error& e) {
    // A layer the unpacker refuses is the archive's fault; a full or failing disk is not.
    if (dynamic_cast<const InvalidArgument*>(&e) || e.code() == ENOSPC || e.code() == EDQUOT ||
        e.code() == EIO)
      throw;
    bad(e.what());
  }

  LoadResult result;
  for (auto& p : pending) {
    Image img = store.add_image(p.config_text);
    result.image_ids.push_back(img.id);
    if (p.tags.empty()) {
      result.messages.push_back("Loaded image ID: " + img.id);
      continue;
    }
    for (auto& t : p.tags) {
      Reference ref = parse_reference(t);
      std::string old = store.tag(img.id, ref);
      if (!old.empty())
        result.messages.push_back("The image " + ref.familiar_string() +
                                  " already exists, renaming the old one with ID " + old +
                                  " to empty string");
      result.messages.push_back("Loaded image: " + ref.familiar_string());
      result.tags.push_back(t);
    }
  }
  added.commit();
  return result;
}

}  // namespace berth::image
