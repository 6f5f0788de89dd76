// Images in and out as archives: POST /images/load, GET /images/get (save),
// POST /images/create?fromSrc= (import).
#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "api/services.h"
#include "base/error.h"
#include "base/fs.h"
#include "image/archive_load.h"
#include "image/archive_save.h"
#include "image/download.h"
#include "image/import.h"

namespace berth::api {
namespace {

using nlohmann::json;

// Docker's JSON message stream, one object per line.
std::string stream_line(const char* key, const std::string& text) {
  return json{{key, text}}.dump() + "\n";
}

Response save(Services& s, const std::vector<std::string>& names) {
  auto plan = image::plan_save(s.images, names);
  Response r;
  r.content_type = "application/x-tar";
  r.stream = [&s, plan = std::move(plan)](const ChunkWriter& write) {
    try {
      image::write_save(s.content, plan, [&](std::string_view data) {
        if (!write(data)) throw Error("client went away");
      });
      for (auto& e : plan) publish_image_event(s, "save", e.image.id);
    } catch (const std::exception&) {
      // The status line has gone out; ending the stream early is how the client learns.
    }
  };
  return r;
}

Response import(Services& s, const Request& req) {
  std::string src = req.q("fromSrc");
  image::ImportOptions opts;
  opts.source = src;
  opts.message = req.q("message");
  auto range = req.query.equal_range("changes");
  for (auto it = range.first; it != range.second; ++it) opts.changes.push_back(it->second);
  if (auto platform = req.q("platform"); !platform.empty()) {
    auto slash = platform.find('/');
    opts.os = platform.substr(0, slash);
    if (slash != std::string::npos) opts.architecture = platform.substr(slash + 1);
    if (opts.os != "linux") throw InvalidArgument("unsupported os " + opts.os);
  }
  // Checked before the upload is read, so a bad name costs no disk.
  std::optional<image::Reference> ref;
  if (auto repo = req.q("repo"); !repo.empty()) {
    std::string tag = req.q("tag");
    ref = image::parse_reference(tag.empty() ? repo : repo + ":" + tag);
    if (ref->tag.empty()) ref->tag = "latest";
  }
  image::Image img;
  if (src == "-") {
    img = image::import_rootfs(s.images, s.content, req.read_body, opts);
  } else {
    // The daemon fetches the URL itself, as dockerd does; the download is a blob only until
    // the layer has been made from it.
    std::string raw = image::download_blob(s.content, src);
    auto hold = s.images.pin({raw});
    UniqueFd fd = open_or_throw(s.content.path(raw), O_RDONLY | O_CLOEXEC);
    try {
      img = image::import_rootfs(
          s.images, s.content,
          [&](char* buf, size_t len) {
            ssize_t n = ::read(fd.get(), buf, len);
            if (n < 0) throw_errno("read downloaded " + src);
            return static_cast<size_t>(n);
          },
          opts);
    } catch (...) {
      hold.reset();
      s.images.discard_blob(raw);
      throw;
    }
    hold.reset();
    s.images.discard_blob(raw);
  }
  publish_image_event(s, "import", img.id);
  if (ref) {
    s.images.tag(img.id, *ref);
    publish_image_event(s, "tag", img.id, ref->familiar_string());
  }
  return json_response(stream_line("status", img.id));
}

}  // namespace

void add_image_transfer_routes(Router& router, Services& s) {
  router.add(
      "POST", "/images/load",
      [&s](const Request& req) {
        auto result = image::load_archive(s.images, s.content, req.read_body);
        std::string out;
        for (auto& m : result.messages) out += stream_line("stream", m + "\n");
        for (auto& id : result.image_ids) publish_image_event(s, "load", id);
        for (auto& t : result.tags)
          publish_image_event(s, "tag", s.images.get(t).id,
                              image::parse_reference(t).familiar_string());
        Response r = json_response(out);
        r.body = out;
        return r;
      },
      true);

  router.add("GET", "/images/get", [&s](const Request& req) {
    std::vector<std::string> names;
    auto range = req.query.equal_range("names");
    for (auto it = range.first; it != range.second; ++it) names.push_back(it->second);
    return save(s, names);
  });
  router.add("GET", "/images/{name}/get",
             [&s](const Request& req) { return save(s, {req.params.at("name")}); });

  router.add(
      "POST", "/images/create",
      [&s](const Request& req) {
        if (req.query.count("fromSrc")) return import(s, req);
        std::string name = req.q("fromImage");
        if (name.empty()) throw InvalidArgument("fromImage or fromSrc is required");
        auto ref = image::parse_reference(name);
        // There is no registry client yet: an image can only come from load or import.
        throw NotFound("pull access denied for " + ref.familiar_name() +
                       ": pulling from a registry is not supported by this berthd yet; use "
                       "`berth load` or `berth import`");
      },
      true);
}

}  // namespace berth::api
