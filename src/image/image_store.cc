#include "image/image_store.h"

#include <fcntl.h>
#include <linux/fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <filesystem>
#include <set>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/digest.h"
#include "image/layer.h"

namespace berth::image {
namespace {

std::string hex(const std::string& digest) {
  return digest.substr(digest.find(':') + 1);
}

std::string short_id(const std::string& id) {
  return hex(id).substr(0, 12);
}

constexpr const char* kStagingPrefix = "staging-";

bool is_hex(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

// How Docker names a missing image: with the default tag ("nosuch:latest"), ids as given.
std::string display_name(const std::string& name) {
  std::string hexname = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  if (is_hex(hexname) && hexname.size() == 64) return name;
  try {
    auto ref = parse_reference_with_default_tag(name);
    return ref.familiar_string();
  } catch (const std::exception&) {
    return name;
  }
}

// Docker deletes by id without -f when every name is a tag of the same repository.
bool single_repository(const Image& img) {
  std::set<std::string> names;
  for (auto& r : img.tags) names.insert(parse_reference(r).name());
  for (auto& r : img.digests) names.insert(parse_reference(r).name());
  return names.size() <= 1;
}

// Lets each layer directory (and each staging one) start in a block group of its own, as
// ext4's allocator does for the children of a "top directory" (home directories): without
// it a new layer is put in the groups its parent uses, where the previous one was just
// deleted, and a journal-less ext4 then checks every new inode against each recently freed
// one. Here a load of a 4,800-file layer right after an rmi cost 3.6 s of CPU, 0.8 s with it.
// Best effort: other filesystems have no such flag, and only placement changes.
void spread_children(const std::string& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  int flags = 0;
  if (!fd || ::ioctl(fd.get(), FS_IOC_GETFLAGS, &flags) < 0 || (flags & FS_TOPDIR_FL)) return;
  flags |= FS_TOPDIR_FL;
  ::ioctl(fd.get(), FS_IOC_SETFLAGS, &flags);
}

// Removes a directory when its scope is left by an exception, so that a layer is either
// complete and known to the database or gone.
class RemoveOnThrow {
 public:
  explicit RemoveOnThrow(std::string path) : path_(std::move(path)) {}
  ~RemoveOnThrow() {
    if (std::uncaught_exceptions() <= exceptions_) return;
    // Never throws while an exception is on its way; what stays, collect_garbage() removes.
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  RemoveOnThrow(const RemoveOnThrow&) = delete;
  RemoveOnThrow& operator=(const RemoveOnThrow&) = delete;
  // The directory has been renamed.
  void moved_to(std::string path) { path_ = std::move(path); }

 private:
  std::string path_;
  int exceptions_ = std::uncaught_exceptions();
};

}  // namespace

std::string chain_id(const std::string& parent_chain, const std::string& diff_id) {
  if (parent_chain.empty()) return diff_id;
  return sha256_digest(parent_chain + " " + diff_id);
}

ImageStore::ImageStore(Db& db, ContentStore& content, std::string overlay_root)
    : db_(db), content_(content), overlay_root_(std::move(overlay_root)) {
  mkdir_p(overlay_root_, 0700);
  spread_children(overlay_root_);
  db_.exec(R"(
    CREATE TABLE IF NOT EXISTS layers(
      chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT NOT NULL,
      size INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS images(
      id TEXT PRIMARY KEY, parent TEXT NOT NULL, size INTEGER NOT NULL,
      loaded INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS image_refs(
      name TEXT PRIMARY KEY, image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE);
  )");
  load_index();
}

void ImageStore::set_in_use(std::function<std::string(const std::string&)> in_use) {
  std::lock_guard lk(mu_);
  in_use_ = std::move(in_use);
}

void ImageStore::load_index() {
  std::lock_guard lk(mu_);
  Statement ls(db_, "SELECT chain_id, diff_id, parent, size FROM layers");
  while (ls.step()) layers_[ls.text(0)] = Layer{ls.text(0), ls.text(1), ls.text(2), ls.integer(3)};
  Statement is(db_, "SELECT id, parent, size, loaded FROM images");
  while (is.step()) {
    Image img;
    img.id = is.text(0);
    img.parent = is.text(1);
    img.size = is.integer(2);
    img.loaded = is.integer(3);
    try {
      img.config_text = content_.read(img.id);
      img.config = parse_image_config(img.config_text);
    } catch (const std::exception& e) {
      log::error("image " + img.id + " is unusable, its config is lost: " + e.what());
      continue;
    }
    std::string chain;
    for (auto& d : img.config.diff_ids) img.chain_ids.push_back(chain = chain_id(chain, d));
    images_[img.id] = std::move(img);
  }
  Statement rs(db_, "SELECT name, image_id FROM image_refs ORDER BY rowid");
  while (rs.step()) {
    auto it = images_.find(rs.text(1));
    if (it == images_.end()) continue;
    refs_[rs.text(0)] = rs.text(1);
    (rs.text(0).find('@') == std::string::npos ? it->second.tags : it->second.digests)
        .push_back(rs.text(0));
  }
}

std::string ImageStore::layer_dir(const std::string& chain) const {
  return path_join(overlay_root_, hex(chain) + "/diff");
}

std::string ImageStore::make_staging_dir() {
  std::string tmpl = path_join(overlay_root_, std::string(kStagingPrefix) + "XXXXXX");
  if (!::mkdtemp(tmpl.data())) throw_errno("create staging directory in " + overlay_root_);
  return tmpl;
}

void ImageStore::stage_layer(const std::string& diff_id, const std::string& dir, int64_t size) {
  std::lock_guard lk(mu_);
  if (staged_.count(diff_id)) {
    remove_all(dir);
    return;
  }
  staged_[diff_id] = {dir, size};
}

void ImageStore::drop_staged(const std::string& diff_id) {
  std::string dir;
  {
    std::lock_guard lk(mu_);
    auto it = staged_.find(diff_id);
    if (it == staged_.end()) return;
    dir = it->second.first;
    staged_.erase(it);
  }
  remove_all(dir);
}

std::vector<std::string> ImageStore::layer_dirs(const Image& img) const {
  std::vector<std::string> dirs;
  for (auto it = img.chain_ids.rbegin(); it != img.chain_ids.rend(); ++it)
    dirs.push_back(layer_dir(*it));
  return dirs;
}

std::string ImageStore::ensure_layer(const std::string& parent_chain, const std::string& diff_id) {
  std::string chain = chain_id(parent_chain, diff_id);
  {
    std::lock_guard lk(mu_);
    if (layers_.count(chain)) return chain;
  }
  std::lock_guard unpack(unpack_mu_);
  {
    std::lock_guard lk(mu_);
    if (layers_.count(chain)) return chain;
  }
  if (!content_.has(diff_id)) throw NotFound("layer " + diff_id + " is missing from the store");
  // Unpacked beside its final place and renamed in, so a crash never leaves a layer that
  // looks complete but is not.
  std::string final_dir = path_join(overlay_root_, hex(chain));
  std::string partial;
  LayerStats stats;
  std::optional<std::pair<std::string, int64_t>> staged;
  {
    std::lock_guard lk(mu_);
    if (auto it = staged_.find(diff_id); it != staged_.end()) {
      staged = it->second;
      staged_.erase(it);
    }
  }
  if (staged) {
    partial = staged->first;
    stats.bytes = static_cast<uint64_t>(staged->second);
  } else {
    partial = final_dir + ".partial";
    remove_all(partial);
  }
  RemoveOnThrow unpublished(partial);
  if (!staged) {
    mkdir_p(partial, 0700);
    try {
      stats = apply_layer(content_.path(diff_id), path_join(partial, "diff"));
    } catch (const std::exception& e) {
      rethrow_with_context(e, "unpack layer " + diff_id);
    }
  }
  remove_all(final_dir);
  if (::rename(partial.c_str(), final_dir.c_str()) < 0) {
    int err = errno;
    throw_errno("publish layer " + final_dir, err);
  }
  unpublished.moved_to(final_dir);
  std::lock_guard lk(mu_);
  Statement(db_, "INSERT OR REPLACE INTO layers(chain_id, diff_id, parent, size) VALUES(?,?,?,?)")
      .bind(1, chain)
      .bind(2, diff_id)
      .bind(3, parent_chain)
      .bind(4, static_cast<int64_t>(stats.bytes))
      .run();
  layers_[chain] = Layer{chain, diff_id, parent_chain, static_cast<int64_t>(stats.bytes)};
  return chain;
}

Image ImageStore::add_image(const std::string& config_text, const std::string& parent) {
  ImageConfig cfg;
  try {
    cfg = parse_image_config(config_text);
  } catch (const std::exception& e) {
    throw InvalidArgument(e.what());
  }
  Image img;
  img.id = image_id(config_text);
  {
    std::lock_guard lk(mu_);
    if (images_.count(img.id)) return public_image(img.id);
  }
  Uncommitted added(*this);
  added.add_blob(img.id);
  content_.put(config_text, img.id);
  std::string chain;
  for (auto& d : cfg.diff_ids) img.chain_ids.push_back(chain = added.ensure_layer(chain, d));
  std::lock_guard lk(mu_);
  if (images_.count(img.id)) return public_image(img.id);
  for (auto& c : img.chain_ids) img.size += layers_.at(c).size;
  img.config_text = config_text;
  img.config = std::move(cfg);
  img.parent = parent;
  img.loaded = ::time(nullptr);
  Statement(db_, "INSERT INTO images(id, parent, size, loaded) VALUES(?,?,?,?)")
      .bind(1, img.id)
      .bind(2, img.parent)
      .bind(3, img.size)
      .bind(4, img.loaded)
      .run();
  images_[img.id] = img;
  added.commit();
  return img;
}

void ImageStore::Uncommitted::pin(std::vector<std::string> digests) {
  pinned_.insert(pinned_.end(), digests.begin(), digests.end());
  // The new pin is taken before the old one goes: nothing is ever unpinned in between.
  pin_ = store_.pin(pinned_);
}

void ImageStore::Uncommitted::add_blob(const std::string& digest) {
  blobs_.push_back(digest);
  pin({digest});
}

std::string ImageStore::Uncommitted::ensure_layer(const std::string& parent_chain,
                                                  const std::string& diff_id) {
  std::string chain = chain_id(parent_chain, diff_id);
  chains_.push_back(chain);
  // The layer's blob is the caller's, pinned only: a concurrent rmi of an image that shares
  // it must not remove it mid-unpack.
  pin({chain, diff_id});
  return store_.ensure_layer(parent_chain, diff_id);
}

ImageStore::Uncommitted::~Uncommitted() {
  pin_.reset();
  if (committed_) return;
  try {
    std::lock_guard lk(store_.mu_);
    store_.release_layers_locked(chains_);
    for (auto& b : blobs_) store_.discard_blob(b);
  } catch (const std::exception& e) {
    // collect_garbage() at the next start removes what stays.
    log::error(std::string("cleaning up after a refused image: ") + e.what());
  }
}

std::optional<std::string> ImageStore::resolve_locked(const std::string& name) const {
  if (name.empty()) return std::nullopt;
  std::string id = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
  if (is_hex(id)) {
    if (id.size() == 64) {
      if (images_.count("sha256:" + id)) return "sha256:" + id;
    } else {
      // A unique prefix of an id. A short hex string may also be a repository name
      // ("deadbeef"), so references are tried when no id matches.
      auto it = images_.lower_bound("sha256:" + id);
      if (it != images_.end() && it->first.compare(7, id.size(), id) == 0) {
        auto next = std::next(it);
        if (next != images_.end() && next->first.compare(7, id.size(), id) == 0) {
          throw InvalidArgument("image id prefix " + id + " is ambiguous");
        }
        return it->first;
      }
    }
  }
  if (name.rfind("sha256:", 0) == 0) return std::nullopt;
  Reference ref = parse_reference_with_default_tag(name);
  if (!ref.digest.empty()) {
    // name@digest: the digest of a manifest this image was pulled by, or its id.
    Reference by_digest = ref;
    by_digest.tag.clear();
    if (auto it = refs_.find(by_digest.string()); it != refs_.end()) return it->second;
    if (images_.count(ref.digest)) return ref.digest;
    return std::nullopt;
  }
  if (auto it = refs_.find(ref.string()); it != refs_.end()) return it->second;
  return std::nullopt;
}

std::optional<Image> ImageStore::find(const std::string& name) const {
  std::lock_guard lk(mu_);
  auto id = resolve_locked(name);
  if (!id) return std::nullopt;
  return public_image(*id);
}

Image ImageStore::get(const std::string& name) const {
  auto img = find(name);
  if (!img) throw NotFound("No such image: " + display_name(name));
  return *img;
}

Image ImageStore::public_image(const std::string& id) const {
  return images_.at(id);
}

std::vector<Image> ImageStore::list() const {
  std::lock_guard lk(mu_);
  std::vector<Image> out;
  out.reserve(images_.size());
  for (auto& [id, img] : images_) out.push_back(img);
  return out;
}

uint64_t ImageStore::layer_count() const {
  std::lock_guard lk(mu_);
  return layers_.size();
}

int64_t ImageStore::layer_size(const std::string& chain) const {
  std::lock_guard lk(mu_);
  auto it = layers_.find(chain);
  return it == layers_.end() ? 0 : it->second.size;
}

std::string ImageStore::tag(const std::string& image_id, const Reference& ref) {
  std::lock_guard lk(mu_);
  auto it = images_.find(image_id);
  if (it == images_.end()) throw NotFound("No such image: " + image_id);
  std::string name = ref.string();
  std::string previous;
  if (auto old = refs_.find(name); old != refs_.end()) {
    if (old->second == image_id) return "";
    previous = old->second;
  }
  Statement(db_, "INSERT OR REPLACE INTO image_refs(name, image_id) VALUES(?,?)")
      .bind(1, name)
      .bind(2, image_id)
      .run();
  if (!previous.empty()) {
    auto& tags = images_.at(previous).tags;
    auto& digests = images_.at(previous).digests;
    std::erase(tags, name);
    std::erase(digests, name);
  }
  refs_[name] = image_id;
  (ref.digest.empty() ? it->second.tags : it->second.digests).push_back(name);
  return previous;
}

void ImageStore::untag_locked(const std::string& ref_name) {
  auto it = refs_.find(ref_name);
  if (it == refs_.end()) return;
  Statement(db_, "DELETE FROM image_refs WHERE name = ?").bind(1, ref_name).run();
  auto& img = images_.at(it->second);
  std::erase(img.tags, ref_name);
  std::erase(img.digests, ref_name);
  refs_.erase(it);
}

bool ImageStore::has_children_locked(const std::string& id) const {
  return std::any_of(images_.begin(), images_.end(),
                     [&](const auto& kv) { return kv.second.parent == id; });
}

void ImageStore::delete_image_locked(const std::string& id, std::vector<RemovedItem>& out) {
  Image img = images_.at(id);
  {
    Transaction tx(db_);
    Statement(db_, "DELETE FROM image_refs WHERE image_id = ?").bind(1, id).run();
    Statement(db_, "DELETE FROM images WHERE id = ?").bind(1, id).run();
    tx.commit();
  }
  for (auto& t : img.tags) {
    refs_.erase(t);
    out.push_back({parse_reference(t).familiar_string(), "", id});
  }
  for (auto& d : img.digests) {
    refs_.erase(d);
    out.push_back({parse_reference(d).familiar_string(), "", id});
  }
  images_.erase(id);
  out.push_back({"", id, id});
  content_.remove(id);
  release_layers_locked(img.chain_ids);
}

std::shared_ptr<void> ImageStore::pin(std::vector<std::string> digests) {
  std::lock_guard lk(mu_);
  for (auto& d : digests) pins_.insert(d);
  return std::shared_ptr<void>(nullptr, [this, digests = std::move(digests)](void*) {
    std::lock_guard lk(mu_);
    for (auto& d : digests) pins_.erase(pins_.find(d));
  });
}

void ImageStore::release_layers_locked(const std::vector<std::string>& chain_ids) {
  std::set<std::string> used(pins_.begin(), pins_.end());
  for (auto& [id, img] : images_) used.insert(img.chain_ids.begin(), img.chain_ids.end());
  std::set<std::string> diff_ids_used(pins_.begin(), pins_.end());
  for (auto& [c, l] : layers_)
    if (used.count(c)) diff_ids_used.insert(l.diff_id);
  for (auto& c : chain_ids) {
    if (used.count(c) || !layers_.count(c)) continue;
    std::string diff = layers_.at(c).diff_id;
    Statement(db_, "DELETE FROM layers WHERE chain_id = ?").bind(1, c).run();
    layers_.erase(c);
    remove_all(path_join(overlay_root_, hex(c)));
    if (!diff_ids_used.count(diff)) content_.remove(diff);
  }
}

std::vector<RemovedItem> ImageStore::remove(const std::string& name, bool force,
                                            bool prune_parents) {
  std::lock_guard lk(mu_);
  auto id = resolve_locked(name);
  if (!id) throw NotFound("No such image: " + display_name(name));
  std::vector<RemovedItem> out;
  Image img = images_.at(*id);
  bool by_reference = false;
  std::string ref_name;
  {
    std::string hexname = name.rfind("sha256:", 0) == 0 ? name.substr(7) : name;
    bool id_like = is_hex(hexname) && id->compare(7, hexname.size(), hexname) == 0;
    if (!id_like) {
      Reference ref = parse_reference_with_default_tag(name);
      if (!ref.digest.empty()) ref.tag.clear();
      ref_name = ref.string();
      by_reference = refs_.count(ref_name) > 0;
    }
  }
  std::string user = in_use_ ? in_use_(*id) : "";
  bool used = !user.empty();
  size_t nrefs = img.tags.size() + img.digests.size();
  if (by_reference) {
    // As Docker: when a repository's last tag goes, its digest references (a pull's or a
    // push's) go with it.
    std::vector<std::string> digests_too;
    Reference removed = parse_reference(ref_name);
    if (removed.digest.empty()) {
      bool other_tag = false;
      for (auto& t : img.tags)
        if (t != ref_name && parse_reference(t).name() == removed.name()) other_tag = true;
      for (auto& d : img.digests)
        if (!other_tag && parse_reference(d).name() == removed.name()) digests_too.push_back(d);
    }
    // Untagging only, when other references keep the image.
    if (nrefs > 1 + digests_too.size() || (used && !force)) {
      if (used && nrefs == 1)
        throw Conflict("conflict: unable to remove repository reference \"" + name +
                       "\" (must force) - container " + user.substr(0, 12) +
                       " is using its referenced image " + short_id(*id));
      untag_locked(ref_name);
      out.push_back({removed.familiar_string(), "", *id});
      for (auto& d : digests_too) {
        untag_locked(d);
        out.push_back({parse_reference(d).familiar_string(), "", *id});
      }
      return out;
    }
  } else if (nrefs > 1 && !force && !single_repository(img)) {
    throw Conflict("conflict: unable to delete " + short_id(*id) +
                   " (must be forced) - image is referenced in multiple repositories");
  }
  if (has_children_locked(*id))
    throw Conflict("conflict: unable to delete " + short_id(*id) +
                   " (cannot be forced) - image has dependent child images");
  if (used) {
    if (!force)
      throw Conflict("conflict: unable to delete " + short_id(*id) +
                     " (must be forced) - image is being used by container " + user.substr(0, 12));
    // Docker keeps an image a container runs from; forcing only removes its names.
    for (auto t : img.tags) {
      untag_locked(t);
      out.push_back({parse_reference(t).familiar_string(), "", *id});
    }
    for (auto d : img.digests) {
      untag_locked(d);
      out.push_back({parse_reference(d).familiar_string(), "", *id});
    }
    return out;
  }
  delete_image_locked(*id, out);
  // Parents left without a name and without other children go too, as with Docker.
  std::string parent = img.parent;
  while (prune_parents && !parent.empty() && images_.count(parent)) {
    const Image& p = images_.at(parent);
    if (!p.tags.empty() || !p.digests.empty() || has_children_locked(parent) ||
        (in_use_ && !in_use_(parent).empty()))
      break;
    std::string next = p.parent;
    delete_image_locked(parent, out);
    parent = next;
  }
  return out;
}

std::pair<std::vector<RemovedItem>, uint64_t> ImageStore::remove_unused(
    const std::vector<std::string>& ids) {
  std::lock_guard lk(mu_);
  std::vector<RemovedItem> out;
  uint64_t before = 0, after = 0;
  for (auto& [c, l] : layers_) before += static_cast<uint64_t>(l.size);
  for (auto& id : ids) {
    if (!images_.count(id) || has_children_locked(id) || (in_use_ && !in_use_(id).empty()))
      continue;
    delete_image_locked(id, out);
  }
  for (auto& [c, l] : layers_) after += static_cast<uint64_t>(l.size);
  return {out, before - after};
}

void ImageStore::discard_blob(const std::string& digest) {
  std::lock_guard lk(mu_);
  if (pins_.count(digest) || images_.count(digest)) return;
  for (auto& [c, l] : layers_)
    if (l.diff_id == digest) return;
  content_.remove(digest);
}

void ImageStore::collect_garbage() {
  std::lock_guard lk(mu_);
  std::set<std::string> used;
  for (auto& [id, img] : images_) used.insert(img.chain_ids.begin(), img.chain_ids.end());
  std::vector<std::string> orphans;
  for (auto& [c, l] : layers_)
    if (!used.count(c)) orphans.push_back(c);
  release_layers_locked(orphans);
  std::set<std::string> known;
  for (auto& [c, l] : layers_) known.insert(hex(c));
  for (auto& entry : list_dir(overlay_root_)) {
    if (known.count(entry)) continue;
    // Container snapshots live beside the layers under ids of their own; only what looks
    // like a layer (64 hex, or a half-unpacked one) is the image store's to remove.
    std::string base = entry.substr(0, entry.find('.'));
    if ((base.size() == 64 && is_hex(base)) || entry.rfind(kStagingPrefix, 0) == 0)
      remove_all(path_join(overlay_root_, entry));
  }
  std::set<std::string> blobs;
  for (auto& [id, img] : images_) blobs.insert(id);
  for (auto& [c, l] : layers_) blobs.insert(l.diff_id);
  for (auto& d : content_.list())
    if (!blobs.count(d)) content_.remove(d);
}

}  // namespace berth::image
