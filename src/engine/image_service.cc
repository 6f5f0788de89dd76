#include "engine/image_service.h"

#include <fcntl.h>
#include <unistd.h>

#include "base/error.h"
#include "base/fs.h"
#include "image/archive_save.h"
#include "image/download.h"
#include "image/reference.h"

namespace berth::engine {

ImageService::ImageService(image::ImageStore& store, image::ContentStore& content, EventBus& events,
                           Db& db, registry::Options registry)
    : store_(store),
      content_(content),
      events_(events),
      layer_digests_(db),
      registry_(std::move(registry)) {}

void ImageService::event(const std::string& action, const std::string& id,
                         const std::string& name) {
  Event e{"image", action, id.empty() ? name : id, {}, 0};
  if (!name.empty()) e.attributes["name"] = name;
  events_.publish(std::move(e));
}

void ImageService::tag(const std::string& image_ref, const std::string& repo,
                       const std::string& tag) {
  auto img = store_.get(image_ref);
  if (repo.empty()) throw InvalidArgument("repository name must have at least one component");
  if (image::looks_like_full_id(repo))
    throw InvalidArgument("invalid repository name (" + repo +
                          "), cannot specify 64-byte hexadecimal strings");
  auto ref = image::parse_reference(tag.empty() ? repo : repo + ":" + tag);
  if (!ref.digest.empty())
    throw InvalidArgument("refusing to create a tag with a digest reference");
  if (ref.tag.empty()) ref.tag = "latest";
  store_.tag(img.id, ref);
  event("tag", img.id, ref.familiar_string());
}

std::vector<image::RemovedItem> ImageService::remove(const std::string& ref, bool force,
                                                     bool prune_parents) {
  auto removed = store_.remove(ref, force, prune_parents);
  for (auto& r : removed) {
    if (!r.untagged.empty())
      event("untag", r.image_id, r.untagged);
    else
      event("delete", r.deleted);
  }
  return removed;
}

PruneResult ImageService::prune(const std::vector<std::string>& ids) {
  PruneResult out;
  std::tie(out.removed, out.reclaimed) = store_.remove_unused(ids);
  for (auto& r : out.removed) {
    if (!r.untagged.empty())
      event("untag", r.image_id, r.untagged);
    else
      event("delete", r.deleted);
  }
  events_.publish({"image", "prune", "", {{"reclaimed", std::to_string(out.reclaimed)}}, 0});
  return out;
}

image::Image ImageService::import(const std::string& src, const ReadFn& body,
                                  image::ImportOptions opts, const std::string& repo,
                                  const std::string& tag) {
  opts.source = src;
  // Checked before the upload is read, so a bad name costs no disk.
  std::optional<image::Reference> ref;
  if (!repo.empty()) {
    ref = image::parse_reference(tag.empty() ? repo : repo + ":" + tag);
    if (ref->tag.empty()) ref->tag = "latest";
  }
  image::Image img;
  if (src == "-") {
    img = image::import_rootfs(store_, content_, body, opts);
  } else {
    // The daemon fetches the URL itself, as dockerd does; the download is a blob only until
    // the layer has been made from it.
    std::string raw = image::download_blob(content_, src);
    auto hold = store_.pin({raw});
    UniqueFd fd = open_or_throw(content_.path(raw), O_RDONLY | O_CLOEXEC);
    try {
      img = image::import_rootfs(
          store_, content_,
          [&](char* buf, size_t len) {
            ssize_t n = ::read(fd.get(), buf, len);
            if (n < 0) throw_errno("read downloaded " + src);
            return static_cast<size_t>(n);
          },
          opts);
    } catch (...) {
      hold.reset();
      store_.discard_blob(raw);
      throw;
    }
    hold.reset();
    store_.discard_blob(raw);
  }
  event("import", img.id);
  if (ref) {
    store_.tag(img.id, *ref);
    event("tag", img.id, ref->familiar_string());
  }
  return img;
}

image::LoadResult ImageService::load(const ReadFn& body) {
  auto result = image::load_archive(store_, content_, body);
  for (auto& id : result.image_ids) event("load", id);
  for (auto& t : result.tags)
    event("tag", store_.get(t).id, image::parse_reference(t).familiar_string());
  return result;
}

std::function<void(const WriteFn&)> ImageService::save(const std::vector<std::string>& names) {
  auto plan = image::plan_save(store_, names);
  return [this, plan = std::move(plan)](const WriteFn& write) {
    image::write_save(content_, plan, write);
    for (auto& e : plan) event("save", e.image.id);
  };
}

}  // namespace berth::engine
