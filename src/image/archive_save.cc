#include "image/archive_save.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <map>
#include <memory>
#include <set>

#include "base/error.h"
#include "base/fs.h"
#include "image/digest.h"

namespace berth::image {
namespace {

struct Sink {
  const WriteFn* write;
  std::string error;
};

la_ssize_t write_cb(archive*, void* ctx, const void* buf, size_t len) {
  auto* s = static_cast<Sink*>(ctx);
  try {
    (*s->write)(std::string_view(static_cast<const char*>(buf), len));
    return static_cast<la_ssize_t>(len);
  } catch (const std::exception& e) {
    s->error = e.what();
    return -1;
  }
}

class TarWriter {
 public:
  explicit TarWriter(const WriteFn& out) : a_(archive_write_new(), archive_write_free) {
    sink_.write = &out;
    archive_write_set_format_pax_restricted(a_.get());
    // Blocks of one record and no padding to 10 KiB at the end: the tar is streamed.
    archive_write_set_bytes_per_block(a_.get(), 0);
    if (archive_write_open(a_.get(), &sink_, nullptr, write_cb, nullptr) != ARCHIVE_OK) fail();
  }

  void dir(const std::string& path) {
    entry(path, AE_IFDIR, 0755, 0);
    finish_entry();
  }

  void file(const std::string& path, std::string_view data) {
    entry(path, AE_IFREG, 0644, static_cast<int64_t>(data.size()));
    if (!data.empty() && archive_write_data(a_.get(), data.data(), data.size()) < 0) fail();
    finish_entry();
  }

  void file_from(const std::string& path, const std::string& src) {
    UniqueFd fd = open_or_throw(src, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (::fstat(fd.get(), &st) < 0) throw_errno("stat " + src);
    ::posix_fadvise(fd.get(), 0, 0, POSIX_FADV_SEQUENTIAL);
    entry(path, AE_IFREG, 0644, st.st_size);
    std::vector<char> buf(1 << 20);
    int64_t left = st.st_size;
    while (left > 0) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n < 0) throw_errno("read " + src);
      if (n == 0) throw Error("save: " + src + " shrank while it was written");
      if (archive_write_data(a_.get(), buf.data(), static_cast<size_t>(n)) < 0) fail();
      left -= n;
    }
    finish_entry();
  }

  void close() {
    if (archive_write_close(a_.get()) != ARCHIVE_OK) fail();
  }

 private:
  void entry(const std::string& path, unsigned type, unsigned perm, int64_t size) {
    std::unique_ptr<archive_entry, decltype(&archive_entry_free)> e(archive_entry_new(),
                                                                    archive_entry_free);
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), type);
    archive_entry_set_perm(e.get(), perm);
    archive_entry_set_size(e.get(), size);
    // A fixed time keeps two saves of the same images byte for byte the same.
    archive_entry_set_mtime(e.get(), 0, 0);
    if (archive_write_header(a_.get(), e.get()) != ARCHIVE_OK) fail();
  }

  void finish_entry() {
    if (archive_write_finish_entry(a_.get()) != ARCHIVE_OK) fail();
  }

  [[noreturn]] void fail() {
    throw Error("save: write archive: " +
                (sink_.error.empty() ? std::string(archive_error_string(a_.get())) : sink_.error));
  }

  Sink sink_;
  std::unique_ptr<archive, decltype(&archive_write_free)> a_;
};

std::string hex(const std::string& digest) {
  return digest.substr(7);
}

}  // namespace

std::vector<SaveEntry> plan_save(const ImageStore& store, const std::vector<std::string>& names) {
  if (names.empty()) throw InvalidArgument("no image names were given");
  std::vector<SaveEntry> plan;
  std::map<std::string, size_t> index;  // image id -> position in plan
  auto add = [&](const Image& img, const std::string& tag) {
    auto [it, fresh] = index.emplace(img.id, plan.size());
    if (fresh) plan.push_back({img, {}});
    auto& tags = plan[it->second].tags;
    if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) tags.push_back(tag);
  };
  for (auto& name : names) {
    auto img = store.find(name);
    if (!img) {
      // A repository without a tag: every tag it has.
      bool any = false;
      try {
        Reference ref = parse_reference(name);
        if (ref.tag.empty() && ref.digest.empty()) {
          for (auto& i : store.list())
            for (auto& t : i.tags)
              if (parse_reference(t).name() == ref.name()) {
                add(i, t);
                any = true;
              }
        }
      } catch (const InvalidArgument&) {
        throw;
      } catch (const std::exception&) {
      }
      if (!any) throw NotFound("No such image: " + name);
      continue;
    }
    std::string tag;
    try {
      Reference ref = parse_reference_with_default_tag(name);
      if (ref.digest.empty() &&
          std::find(img->tags.begin(), img->tags.end(), ref.string()) != img->tags.end())
        tag = ref.string();
    } catch (const std::exception&) {
    }
    add(*img, tag);
  }
  return plan;
}

void write_save(const ContentStore& content, const std::vector<SaveEntry>& plan,
                const WriteFn& out) {
  TarWriter tar(out);
  tar.dir("blobs/");
  tar.dir("blobs/sha256/");
  std::set<std::string> written;
  nlohmann::json manifest = nlohmann::json::array();
  nlohmann::json index_manifests = nlohmann::json::array();
  nlohmann::json repositories = nlohmann::json::object();
  for (auto& entry : plan) {
    const Image& img = entry.image;
    nlohmann::json layers = nlohmann::json::array();
    nlohmann::json oci_layers = nlohmann::json::array();
    for (auto& diff : img.config.diff_ids) {
      std::string path = "blobs/sha256/" + hex(diff);
      if (written.insert(diff).second) tar.file_from(path, content.path(diff));
      layers.push_back(path);
      oci_layers.push_back(
          {{"mediaType", media_type::kOciLayer}, {"digest", diff}, {"size", content.size(diff)}});
    }
    if (written.insert(img.id).second) tar.file("blobs/sha256/" + hex(img.id), img.config_text);
    nlohmann::json oci_manifest = {{"schemaVersion", 2},
                                   {"mediaType", media_type::kOciManifest},
                                   {"config",
                                    {{"mediaType", media_type::kOciConfig},
                                     {"digest", img.id},
                                     {"size", img.config_text.size()}}},
                                   {"layers", oci_layers}};
    std::string mtext = oci_manifest.dump();
    std::string mdigest = sha256_digest(mtext);
    if (written.insert(mdigest).second) tar.file("blobs/sha256/" + hex(mdigest), mtext);

    nlohmann::json repo_tags = nlohmann::json::array();
    for (auto& t : entry.tags) {
      Reference ref = parse_reference(t);
      repo_tags.push_back(ref.familiar_string());
      if (!img.config.diff_ids.empty())
        repositories[ref.familiar_name()][ref.tag] = hex(img.config.diff_ids.back());
    }
    manifest.push_back({{"Config", "blobs/sha256/" + hex(img.id)},
                        {"RepoTags", entry.tags.empty() ? nlohmann::json(nullptr) : repo_tags},
                        {"Layers", layers}});
    auto descriptor = [&](const std::string* tag) {
      nlohmann::json d = {
          {"mediaType", media_type::kOciManifest}, {"digest", mdigest}, {"size", mtext.size()}};
      if (tag) {
        Reference ref = parse_reference(*tag);
        d["annotations"] = {{"io.containerd.image.name", ref.string()},
                            {"org.opencontainers.image.ref.name", ref.tag}};
      }
      return d;
    };
    if (entry.tags.empty()) index_manifests.push_back(descriptor(nullptr));
    for (auto& t : entry.tags) index_manifests.push_back(descriptor(&t));
  }
  tar.file("index.json", nlohmann::json{{"schemaVersion", 2},
                                        {"mediaType", media_type::kOciIndex},
                                        {"manifests", index_manifests}}
                                 .dump() +
                             "\n");
  tar.file("manifest.json", manifest.dump() + "\n");
  tar.file("oci-layout", R"({"imageLayoutVersion":"1.0.0"})");
  if (!repositories.empty()) tar.file("repositories", repositories.dump() + "\n");
  tar.close();
}

}  // namespace berth::image
