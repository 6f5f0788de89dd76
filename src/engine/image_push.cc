// push: each layer the registry lacks is gzip-compressed as it streams up (several at once),
// those it has (asked with HEAD by the digests a pull or an earlier push recorded) are
// skipped; then the config and a Docker v2 schema 2 manifest. The image gets the manifest's
// digest among its RepoDigests.
#include <atomic>
#include <chrono>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "engine/gzip_source.h"
#include "engine/image_service.h"
#include "image/digest.h"

namespace berth::engine {
namespace {

// As dockerd's max-concurrent-uploads: the compressor is the bottleneck, one per layer.
constexpr int kParallelUploads = 5;

std::string short_id(const std::string& digest) {
  return digest.substr(digest.find(':') + 1, 12);
}

}  // namespace

std::function<void(const TransferFn&)> ImageService::push(const PushRequest& req) {
  std::string name = req.image;
  if (!req.tag.empty()) name += ":" + req.tag;
  auto ref = image::parse_reference(name);
  if (!ref.digest.empty()) throw InvalidArgument("cannot push a digest reference");
  // The tags to push: the one asked for, or every tag of the repository.
  std::vector<std::pair<image::Reference, image::Image>> items;
  if (!ref.tag.empty()) {
    auto img = store_.find(ref.string());
    if (!img)
      throw NotFound("An image does not exist locally with the tag: " + ref.familiar_name());
    items.emplace_back(ref, *img);
  } else {
    for (auto& img : store_.list())
      for (auto& t : img.tags) {
        auto r = image::parse_reference(t);
        if (r.name() == ref.name()) items.emplace_back(r, img);
      }
    if (items.empty())
      throw NotFound("An image does not exist locally with the tag: " + ref.familiar_name());
  }
  auto client = std::make_shared<registry::Client>(registry::endpoint_for(ref.domain, registry_),
                                                   ref.path, req.auth, "pull,push");
  return [this, client, items, ref](const TransferFn& report) {
    std::mutex report_mu;
    TransferFn say = [&](const TransferProgress& p) {
      std::lock_guard lock(report_mu);
      report(p);
    };
    say({"", "The push refers to repository [" + ref.name() + "]", false, 0, 0, {}});
    for (auto& [r, img] : items) {
      try {
        push_one(*client, r, img, say);
      } catch (const std::exception& e) {
        rethrow_with_context(e, "pushing " + r.familiar_string());
      }
    }
  };
}

void ImageService::push_one(registry::Client& client, const image::Reference& ref,
                            const image::Image& img, const TransferFn& say) {
  const auto& diffs = img.config.diff_ids;
  std::vector<CompressedBlob> blobs(diffs.size());
  // Docker lists the top layer first.
  for (size_t i = diffs.size(); i-- > 0;) say({short_id(diffs[i]), "Preparing", true, 0, 0, {}});

  std::atomic<size_t> next{0};
  std::atomic<bool> cancel{false};
  std::mutex mu;
  std::exception_ptr failure;
  auto push_layer = [&](registry::Client& c, size_t i) {
    std::string id = short_id(diffs[i]);
    for (auto& known : layer_digests_.lookup(diffs[i])) {
      if (c.has_blob(known.digest)) {
        blobs[i] = known;
        say({id, "Layer already exists", true, 0, 0, {}});
        return;
      }
    }
    GzipSource src(content_.path(diffs[i]));
    int64_t total = static_cast<int64_t>(content_.size(diffs[i]));
    int64_t last = 0;
    c.upload_blob(
        [&](char* buf, size_t len) {
          if (cancel) throw Error("cancelled");
          return src.read(buf, len);
        },
        [&] { return src.digest(); },
        [&](uint64_t) {
          int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
          if (now - last < 100'000'000) return;
          last = now;
          say({id, "Pushing", true, static_cast<int64_t>(src.consumed()), total, {}});
        });
    blobs[i] = {src.digest(), image::media_type::kDockerLayerGzip,
                static_cast<int64_t>(src.produced())};
    layer_digests_.remember(diffs[i], blobs[i]);
    say({id, "Pushed", true, 0, 0, {}});
  };
  auto worker = [&] {
    registry::Client c = client.fork();
    while (!cancel) {
      size_t k = next++;
      if (k >= diffs.size()) break;
      try {
        push_layer(c, k);
      } catch (...) {
        std::lock_guard lock(mu);
        if (!failure) failure = std::current_exception();
        cancel = true;
      }
    }
  };
  // The first request authenticates, so that the workers share one token.
  if (!client.has_blob(img.id)) client.put_blob(img.id, img.config_text);
  std::vector<std::thread> threads;
  for (int i = 0; i < kParallelUploads && i < static_cast<int>(diffs.size()); i++)
    threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  if (failure) std::rethrow_exception(failure);

  nlohmann::ordered_json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = image::media_type::kDockerManifest;
  m["config"] = {{"mediaType", image::media_type::kDockerConfig},
                 {"size", img.config_text.size()},
                 {"digest", img.id}};
  m["layers"] = nlohmann::ordered_json::array();
  for (auto& b : blobs)
    m["layers"].push_back(
        {{"mediaType", b.media_type.empty() ? image::media_type::kDockerLayerGzip : b.media_type},
         {"size", b.size},
         {"digest", b.digest}});
  std::string body = m.dump(3);
  std::string digest = client.put_manifest(ref.tag, image::media_type::kDockerManifest, body);
  store_.tag(img.id, image::parse_reference(ref.name() + "@" + digest));
  say({"", ref.tag + ": digest: " + digest + " size: " + std::to_string(body.size()), false, 0, 0,
       PushedManifest{ref.tag, digest, static_cast<int64_t>(body.size())}});
  event("push", "", ref.familiar_string());
}

void ImageService::login(const std::string& server, const Credentials& creds) {
  registry::Client client(registry::endpoint_for(server, registry_), "", creds, "");
  client.login();
}

}  // namespace berth::engine
