// pull: a manifest (the host's platform picked from an index), its config, then the layers
// it lacks, downloaded in parallel and decompressed and unpacked as they stream in; each
// checked against the manifest's digest and the config's diff id before the image is
// registered. A pull that fails leaves no image, layer or blob of its own behind.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "base/fs.h"
#include "base/log.h"
#include "engine/image_service.h"
#include "engine/layer_decoder.h"
#include "image/decompress.h"
#include "image/digest.h"
#include "image/speculative_unpack.h"

namespace berth::engine {
namespace {

constexpr int kParallelDownloads = 3;

std::string short_id(const std::string& digest) {
  return digest.substr(digest.find(':') + 1, 12);
}

image::Platform parse_platform(const std::string& s) {
  if (s.empty()) return registry::host_platform();
  auto parts = split(s, '/');
  if (parts.size() < 2 || parts.size() > 3 || parts[0].empty() || parts[1].empty())
    throw InvalidArgument("\"" + s + "\": unknown operating system or architecture");
  image::Platform p{parts[0], parts[1], parts.size() == 3 ? parts[2] : ""};
  if (p.architecture == "arm64" && p.variant.empty()) p.variant = "v8";
  return p;
}

// Docker's words for a refused pull.
[[noreturn]] void pull_failed(const image::Reference& ref, const std::string& what,
                              const std::exception& e) {
  if (dynamic_cast<const Forbidden*>(&e) ||
      std::string(e.what()).find("name unknown") != std::string::npos)
    throw NotFound("pull access denied for " + ref.familiar_name() +
                   ", repository does not exist or may require 'docker login': " +
                   std::string(e.what()).substr(std::string(e.what()).find(": ") + 2));
  if (dynamic_cast<const NotFound*>(&e))
    throw NotFound("manifest for " + what + " not found: " +
                   std::string(e.what()).substr(std::string(e.what()).find(": ") + 2));
  rethrow_with_context(e, "pulling " + what);
}

// A layer to fetch and what became of it.
struct LayerJob {
  image::Descriptor blob;
  std::string diff_id;  // from the config
  bool done = false;
  std::string stored;  // the uncompressed blob's digest, once stored
  std::string staged;  // diff id of a layer unpacked while it arrived
  std::exception_ptr error;
};

}  // namespace

struct PullTarget {
  std::string tag_or_digest;  // as asked: "latest" or "sha256:..."
  image::Reference ref;       // the name with that tag or digest
  std::string digest;         // of the manifest asked for (an index's when it is one)
  image::Manifest manifest;
};

std::function<void(const TransferFn&)> ImageService::pull(const PullRequest& req) {
  std::string name = req.image;
  if (!req.tag.empty()) name += (image::is_digest(req.tag) ? "@" : ":") + req.tag;
  auto ref = image::parse_reference(name);
  image::Platform platform = parse_platform(req.platform);
  auto client = std::make_shared<registry::Client>(registry::endpoint_for(ref.domain, registry_),
                                                   ref.path, req.auth, "pull");
  std::vector<std::string> wanted;
  if (!ref.digest.empty())
    wanted.push_back(ref.digest);
  else if (!ref.tag.empty())
    wanted.push_back(ref.tag);
  else
    try {
      wanted = client->list_tags();
    } catch (const std::exception& e) {
      pull_failed(ref, ref.familiar_name(), e);
    }

  auto targets = std::make_shared<std::vector<PullTarget>>();
  for (auto& w : wanted) {
    PullTarget t;
    t.tag_or_digest = w;
    t.ref = ref;
    (image::is_digest(w) ? t.ref.digest : t.ref.tag) = w;
    try {
      auto m = client->get_manifest(w);
      t.digest = m.digest;
      if (image::detect_document(m.body) == image::DocumentKind::kIndex) {
        auto pick = registry::select_platform(image::parse_index(m.body), platform);
        if (!pick)
          throw NotFound("no matching manifest for " + platform.os + "/" + platform.architecture +
                         (platform.variant.empty() ? "" : "/" + platform.variant) +
                         " in the manifest list entries");
        m = client->get_manifest(pick->digest);
      }
      t.manifest = image::parse_manifest(m.body);
    } catch (const NotFound& e) {
      if (std::string(e.what()).rfind("no matching manifest", 0) == 0) throw;
      pull_failed(ref, t.ref.familiar_string(), e);
    } catch (const std::exception& e) {
      pull_failed(ref, t.ref.familiar_string(), e);
    }
    targets->push_back(std::move(t));
  }

  return [this, client, targets](const TransferFn& report) {
    std::mutex report_mu;
    TransferFn say = [&](const TransferProgress& p) {
      std::lock_guard lock(report_mu);
      report(p);
    };
    for (auto& t : *targets) pull_one(*client, t, say);
  };
}

void ImageService::pull_one(registry::Client& client, const PullTarget& t, const TransferFn& say) {
  say({t.tag_or_digest, "Pulling from " + t.ref.path, false, 0, 0, {}});
  std::string config_text;
  try {
    config_text = client.fetch_small_blob(t.manifest.config.digest, t.manifest.config.size);
  } catch (const std::exception& e) {
    rethrow_with_context(e, "config of " + t.ref.familiar_string());
  }
  auto cfg = image::parse_image_config(config_text);
  if (cfg.diff_ids.size() != t.manifest.layers.size())
    throw InvalidArgument(t.ref.familiar_string() + ": the manifest has " +
                          std::to_string(t.manifest.layers.size()) +
                          " layers but the config lists " + std::to_string(cfg.diff_ids.size()));

  image::ImageStore::Uncommitted added(store_);
  std::vector<LayerJob> jobs(t.manifest.layers.size());
  std::vector<size_t> missing;
  for (size_t i = 0; i < jobs.size(); i++) {
    jobs[i].blob = t.manifest.layers[i];
    jobs[i].diff_id = cfg.diff_ids[i];
    if (content_.has(cfg.diff_ids[i])) {
      added.add_blob(cfg.diff_ids[i]);  // pinned: a concurrent rmi leaves it
      jobs[i].done = true;
      jobs[i].stored = cfg.diff_ids[i];
      say({short_id(jobs[i].blob.digest), "Already exists", true, 0, 0, {}});
    } else {
      missing.push_back(i);
      say({short_id(jobs[i].blob.digest), "Pulling fs layer", true, 0, 0, {}});
    }
  }

  std::mutex mu;
  std::condition_variable cv;
  std::atomic<bool> cancel{false};
  std::atomic<size_t> next{0};
  std::exception_ptr first_error;
  auto fetch = [&](registry::Client& c, LayerJob& job) {
    std::string id = short_id(job.blob.digest);
    auto w = content_.writer();
    std::unique_ptr<image::BlobWriter> raw;
    std::unique_ptr<image::SpeculativeUnpack> unpack;
    bool head_seen = false;
    LayerDecoder dec(
        [&](std::string_view d) {
          if (!head_seen && d.size() >= 512) {
            head_seen = true;
            if (image::looks_like_tar(d))
              unpack = std::make_unique<image::SpeculativeUnpack>(store_.make_staging_dir());
          }
          head_seen = true;
          w->write(d);
          if (unpack) unpack->feed(d);
        },
        [&](std::string_view d) {
          if (!raw) raw = content_.writer();
          raw->write(d);
        });
    int64_t last = 0;
    std::exception_ptr bad_data;
    c.fetch_blob(
        job.blob.digest, job.blob.size,
        [&](std::string_view d) {
          if (cancel) throw Error("cancelled");
          // A blob that does not decompress is first checked against its digest: a
          // corrupt download is reported as one, as Docker does.
          if (bad_data) return;
          try {
            dec.feed(d);
          } catch (const InvalidArgument&) {
            bad_data = std::current_exception();
          }
        },
        [&](uint64_t done) {
          int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
          if (now - last < 100'000'000 && static_cast<int64_t>(done) < job.blob.size) return;
          last = now;
          say({id, "Downloading", true, static_cast<int64_t>(done), job.blob.size, {}});
        });
    if (bad_data) std::rethrow_exception(bad_data);
    dec.finish();
    say({id, "Verifying Checksum", true, 0, 0, {}});
    say({id, "Download complete", true, 0, 0, {}});
    std::string diff;
    if (dec.passed_raw()) {
      // zstd and the rest: kept whole, then decompressed by the image module.
      std::string packed = raw->commit();
      UniqueFd fd = open_or_throw(content_.path(packed), O_RDONLY | O_CLOEXEC);
      try {
        diff = image::store_decompressed(content_, [&](char* buf, size_t len) {
          ssize_t n = ::read(fd.get(), buf, len);
          if (n < 0) throw_errno("read " + content_.path(packed));
          return static_cast<size_t>(n);
        });
      } catch (...) {
        store_.discard_blob(packed);
        throw;
      }
      store_.discard_blob(packed);
    } else {
      diff = w->commit();
    }
    std::optional<int64_t> unpacked;
    if (unpack) unpacked = unpack->finish();
    {
      std::lock_guard lock(mu);
      job.stored = diff;
    }
    if (unpacked && diff == job.diff_id) {
      store_.stage_layer(diff, unpack->dir(), *unpacked);
      std::lock_guard lock(mu);
      job.staged = diff;
    } else if (unpacked) {
      remove_all(unpack->dir());
    }
    if (diff != job.diff_id)
      throw InvalidArgument("layer " + job.blob.digest + " has diff id " + diff +
                            ", the config says " + job.diff_id);
    layer_digests_.remember(diff, {job.blob.digest, job.blob.media_type, job.blob.size});
  };
  auto worker = [&] {
    registry::Client c = client.fork();
    while (!cancel) {
      size_t k = next++;
      if (k >= missing.size()) break;
      LayerJob& job = jobs[missing[k]];
      std::exception_ptr err;
      try {
        fetch(c, job);
      } catch (...) {
        err = std::current_exception();
      }
      std::lock_guard lock(mu);
      // The first failure is the one reported; the others only follow from it.
      if (err && !first_error) first_error = err;
      if (err) cancel = true;
      job.error = err;
      job.done = true;
      cv.notify_all();
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kParallelDownloads && i < static_cast<int>(missing.size()); i++)
    threads.emplace_back(worker);

  // Layers are put in place in order as their downloads complete, while later ones arrive.
  std::string parent;
  try {
    for (size_t i = 0; i < jobs.size(); i++) {
      LayerJob& job = jobs[i];
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return job.done || cancel.load(); });
        if (!job.done || job.error) break;
      }
      parent = added.ensure_layer(parent, job.diff_id);
      if (std::find(missing.begin(), missing.end(), i) != missing.end())
        say({short_id(job.blob.digest), "Pull complete", true, 0, 0, {}});
    }
  } catch (...) {
    std::lock_guard lock(mu);
    if (!first_error) first_error = std::current_exception();
    cancel = true;
  }
  for (auto& th : threads) th.join();
  std::exception_ptr failure = first_error;
  // Every blob stored goes with the pull if it fails; layers unpacked ahead that no image
  // took are dropped.
  for (auto& job : jobs)
    if (!job.stored.empty()) added.add_blob(job.stored);
  if (failure) {
    for (auto& job : jobs)
      if (!job.staged.empty()) store_.drop_staged(job.staged);
    try {
      std::rethrow_exception(failure);
    } catch (const std::exception& e) {
      rethrow_with_context(e, "pulling " + t.ref.familiar_string());
    }
  }

  auto before = store_.find(t.ref.string());
  auto img = store_.add_image(config_text);
  added.commit();
  std::string digest_ref = t.ref.name() + "@" + t.digest;
  store_.tag(img.id, image::parse_reference(digest_ref));
  bool fresh = !before || before->id != img.id;
  if (!t.ref.tag.empty()) store_.tag(img.id, t.ref);
  event("pull", img.id, t.ref.familiar_string());
  say({"", "Digest: " + t.digest, false, 0, 0, {}});
  say({"",
       (fresh ? "Status: Downloaded newer image for " : "Status: Image is up to date for ") +
           t.ref.familiar_string(),
       false,
       0,
       0,
       {}});
}

}  // namespace berth::engine
