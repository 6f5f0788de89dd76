#include "registry/server_routes.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "base/fs.h"
#include "image/digest.h"
#include "registry/server_error.h"
#include "registry/server_manifest.h"

namespace berth::registry {

namespace {

using json = nlohmann::json;

HttpResponse json_response(int status, const json& body) {
  HttpResponse res;
  res.status = status;
  res.set("Content-Type", "application/json");
  res.body = body.dump();
  return res;
}

HttpResponse error_response(ErrorCode code, const std::string& message, const json& detail) {
  HttpResponse res;
  res.status = code_status(code);
  res.set("Content-Type", "application/json");
  res.body = error_body(code, message, detail);
  return res;
}

HttpResponse empty(int status) {
  HttpResponse res;
  res.status = status;
  return res;
}

void check_name(const std::string& repo) {
  if (!valid_repository_name(repo))
    throw RegistryError(ErrorCode::kNameInvalid, "invalid repository name", json(repo));
}

void check_digest_param(const std::string& digest) {
  if (!image::is_digest(digest))
    throw RegistryError(ErrorCode::kDigestInvalid, "provided digest is not a sha256 digest",
                        json(digest));
}

std::string upload_range(uint64_t received) {
  return "0-" + std::to_string(received == 0 ? 0 : received - 1);
}

HttpResponse upload_answer(int status, const std::string& repo, const std::string& id,
                           uint64_t received) {
  HttpResponse res = empty(status);
  res.set("Location", "/v2/" + repo + "/blobs/uploads/" + id);
  res.set("Range", upload_range(received));
  res.set("Docker-Upload-UUID", id);
  return res;
}

HttpResponse blob_created(const std::string& repo, const std::string& digest) {
  HttpResponse res = empty(201);
  res.set("Location", "/v2/" + repo + "/blobs/" + digest);
  res.set("Docker-Content-Digest", digest);
  return res;
}

bool has_body(const HttpRequest& req) {
  std::string length = req.header("content-length");
  return (!length.empty() && length != "0") || !req.header("transfer-encoding").empty();
}

// A whole body, refused with 413 past `limit`.
std::string read_all(HttpRequest& req, size_t limit) {
  std::string out;
  char buf[1 << 16];
  for (;;) {
    size_t n = req.read_body(buf, sizeof buf);
    if (n == 0) return out;
    if (out.size() + n > limit)
      throw RegistryError(ErrorCode::kTooLarge,
                          "manifest larger than " + std::to_string(limit) + " bytes");
    out.append(buf, n);
  }
}

// The spec's n/last pagination over a sorted list, with the Link header to the next page.
json paginate(const HttpRequest& req, const std::vector<std::string>& all, const std::string& base,
              HttpResponse& res) {
  auto from = all.begin();
  std::string last = req.q("last");
  if (!last.empty()) from = std::upper_bound(all.begin(), all.end(), last);
  size_t left = static_cast<size_t>(all.end() - from);
  size_t n = left;
  if (req.has_query("n")) {
    std::string text = req.q("n");
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(text, &used);
    } catch (const std::exception&) {
    }
    if (v < 0 || used != text.size())
      throw RegistryError(ErrorCode::kPaginationNumberInvalid,
                          "invalid number of results requested", json(text));
    n = std::min(left, static_cast<size_t>(v));
    if (n < left && n > 0)
      res.set("Link", "<" + base + "?last=" + *(from + static_cast<long>(n) - 1) + "&n=" + text +
                          ">; rel=\"next\"");
  }
  return json(std::vector<std::string>(from, from + static_cast<long>(n)));
}

// Media types an Accept header names, without their parameters.
std::vector<std::string> accepted(const std::string& accept) {
  std::vector<std::string> out;
  for (auto& part : split(accept, ',')) {
    std::string t = trim(part.substr(0, part.find(';')));
    if (!t.empty()) out.push_back(t);
  }
  return out;
}

bool is_tag_or_digest(const std::string& ref) {
  return ref.find(':') != std::string::npos ? image::is_digest(ref) : valid_tag(ref);
}

// The rights a request needs, as registry:2 asks a token service for them: pull to read,
// pull and push to write, delete to delete, pull of a mount's source, and the catalog's own.
std::vector<Access> needed_access(const HttpRequest& req) {
  const std::string& path = req.path;
  if (path == "/v2/_catalog") return {{"registry", "catalog", "*"}};
  if (path.rfind("/v2/", 0) != 0) return {};
  std::vector<std::string> parts = split(path.substr(4), '/');
  size_t k = parts.size(), drop = 0;
  if (k >= 3 && ((parts[k - 2] == "tags" && parts[k - 1] == "list") || parts[k - 2] == "blobs" ||
                 parts[k - 2] == "manifests" || parts[k - 2] == "referrers"))
    drop = 2;
  else if (k >= 4 && parts[k - 3] == "blobs" && parts[k - 2] == "uploads")
    drop = 3;
  if (drop == 0) return {};
  std::string repo;
  for (size_t i = 0; i + drop < k; ++i) repo += (i ? "/" : "") + parts[i];
  if (req.method == "GET" || req.method == "HEAD") return {{"repository", repo, "pull"}};
  if (req.method == "DELETE") return {{"repository", repo, "delete"}};
  std::vector<Access> out = {{"repository", repo, "pull"}, {"repository", repo, "push"}};
  std::string from = req.q("from");
  if (!req.q("mount").empty() && !from.empty()) out.push_back({"repository", from, "pull"});
  return out;
}

}  // namespace

HttpResponse Routes::handle(HttpRequest& req) {
  try {
    if (auth_) {
      auto needed = needed_access(req);
      AuthResult r = auth_->authorize(req.header("authorization"), needed);
      if (!r.user) {
        json detail = json::array();
        for (auto& a : needed)
          detail.push_back(
              {{"Type", a.type}, {"Class", ""}, {"Name", a.name}, {"Action", a.action}});
        HttpResponse res = error_response(ErrorCode::kUnauthorized, "authentication required",
                                          needed.empty() ? json() : detail);
        res.set("WWW-Authenticate", r.challenge);
        return res;
      }
      req.user = *r.user;
    }
    return dispatch(req);
  } catch (const RegistryError& e) {
    return error_response(e.code(), e.what(), e.detail());
  }
}

HttpResponse Routes::dispatch(HttpRequest& req) {
  const std::string& path = req.path;
  if (path == "/v2/" || path == "/v2") return json_response(200, json::object());
  if (path.rfind("/v2/", 0) != 0)
    return error_response(ErrorCode::kUnsupported, "not a registry API path", json(path));
  if (proxy_ && req.method != "GET" && req.method != "HEAD")
    throw RegistryError(ErrorCode::kUnsupported,
                        "The operation is unsupported: this registry is a pull-through cache",
                        json(req.method));
  if (path == "/v2/_catalog") {
    if (req.method != "GET" && req.method != "HEAD")
      throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
    return catalog(req);
  }
  std::vector<std::string> parts = split(path.substr(4), '/');
  size_t k = parts.size();
  auto name_of = [&](size_t drop) {
    std::string repo;
    for (size_t i = 0; i + drop < k; ++i) repo += (i ? "/" : "") + parts[i];
    check_name(repo);
    return repo;
  };
  if (k >= 3 && parts[k - 2] == "tags" && parts[k - 1] == "list") return tags(req, name_of(2));
  if (k >= 4 && parts[k - 3] == "blobs" && parts[k - 2] == "uploads") {
    std::string repo = name_of(3);
    if (parts[k - 1].empty()) return start_upload(req, repo);
    return upload(req, repo, parts[k - 1]);
  }
  if (k >= 3 && parts[k - 2] == "blobs") return blob(req, name_of(2), parts[k - 1]);
  if (k >= 3 && parts[k - 2] == "manifests") return manifest(req, name_of(2), parts[k - 1]);
  if (k >= 3 && parts[k - 2] == "referrers") return referrers(req, name_of(2), parts[k - 1]);
  return error_response(ErrorCode::kUnsupported, "not a registry API path", json(path));
}

HttpResponse Routes::catalog(HttpRequest& req) {
  HttpResponse res = json_response(200, json());
  json repos = paginate(req, storage_.repositories(), "/v2/_catalog", res);
  res.body = json{{"repositories", repos}}.dump();
  return res;
}

HttpResponse Routes::tags(HttpRequest& req, const std::string& repo) {
  if (req.method != "GET" && req.method != "HEAD")
    throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
  auto all = proxy_ ? proxy_->tags(repo) : std::nullopt;
  if (!all) all = storage_.tags(repo);
  if (!all)
    throw RegistryError(ErrorCode::kNameUnknown, "repository name not known to registry",
                        json{{"name", repo}});
  HttpResponse res = json_response(200, json());
  json page = paginate(req, *all, "/v2/" + repo + "/tags/list", res);
  res.body = json{{"name", repo}, {"tags", page}}.dump();
  return res;
}

HttpResponse Routes::blob(HttpRequest& req, const std::string& repo, const std::string& digest) {
  check_digest_param(digest);
  if (req.method == "DELETE") {
    if (!delete_enabled_)
      throw RegistryError(ErrorCode::kUnsupported, "deletion is disabled (storage.delete.enabled)");
    if (!storage_.unlink_blob(repo, digest))
      throw RegistryError(ErrorCode::kBlobUnknown, "blob unknown to registry", json(digest));
    return empty(202);
  }
  if (req.method != "GET" && req.method != "HEAD")
    throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
  // A manifest is a blob too: clients may fetch one by the blob route.
  if (!storage_.blob_linked(repo, digest) && !storage_.resolve(repo, digest) &&
      !(proxy_ && proxy_->blob(repo, digest)))
    throw RegistryError(ErrorCode::kBlobUnknown, "blob unknown to registry", json(digest));
  HttpResponse res;
  res.file = UniqueFd(::open(storage_.blobs().path(digest).c_str(), O_RDONLY | O_CLOEXEC));
  struct stat st;
  if (!res.file || ::fstat(res.file.get(), &st) < 0)
    throw RegistryError(ErrorCode::kBlobUnknown, "blob unknown to registry", json(digest));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  res.set("Content-Type", "application/octet-stream");
  res.set("Docker-Content-Digest", digest);
  res.set("Accept-Ranges", "bytes");
  res.set("ETag", "\"" + digest + "\"");
  res.set("Cache-Control", "max-age=31536000");
  res.file_length = size;
  std::string range = req.header("range");
  if (!range.empty() && req.method == "GET") {
    // bytes=a-b, bytes=a- or bytes=-suffix; several ranges are answered with the first
    // refused: registries serve one.
    uint64_t first = 0, last = size ? size - 1 : 0;
    bool ok = range.rfind("bytes=", 0) == 0 && range.find(',') == std::string::npos;
    std::string spec = ok ? range.substr(6) : "";
    auto dash = spec.find('-');
    ok = ok && dash != std::string::npos;
    try {
      if (ok && dash == 0) {
        uint64_t suffix = std::stoull(spec.substr(1));
        first = suffix >= size ? 0 : size - suffix;
      } else if (ok) {
        first = std::stoull(spec.substr(0, dash));
        if (dash + 1 < spec.size())
          last = std::min<uint64_t>(last, std::stoull(spec.substr(dash + 1)));
      }
    } catch (const std::exception&) {
      ok = false;
    }
    if (!ok || first >= size || last < first) {
      HttpResponse bad =
          error_response(ErrorCode::kRangeInvalid, "requested range not satisfiable", json(range));
      bad.set("Content-Range", "bytes */" + std::to_string(size));
      return bad;
    }
    res.status = 206;
    res.file_offset = first;
    res.file_length = last - first + 1;
    res.set("Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) + "/" +
                                 std::to_string(size));
  }
  return res;
}

HttpResponse Routes::start_upload(HttpRequest& req, const std::string& repo) {
  if (req.method != "POST")
    throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
  std::string mount = req.q("mount");
  if (!mount.empty()) {
    check_digest_param(mount);
    std::string from = req.q("from");
    // Without a source, or when it lacks the blob, the spec has the registry fall back to
    // an ordinary upload session.
    if (!from.empty() && valid_repository_name(from) && storage_.blob_linked(from, mount)) {
      storage_.link_blob(repo, mount);
      return blob_created(repo, mount);
    }
  }
  if (req.has_query("digest")) {
    std::string digest = req.q("digest");
    check_digest_param(digest);
    uploads_.put_monolithic(repo, digest, req.read_body);
    return blob_created(repo, digest);
  }
  std::string id = uploads_.start(repo);
  uint64_t received = has_body(req) ? uploads_.append(repo, id, std::nullopt, req.read_body) : 0;
  return upload_answer(202, repo, id, received);
}

HttpResponse Routes::upload(HttpRequest& req, const std::string& repo, const std::string& id) {
  if (req.method == "GET") return upload_answer(204, repo, id, uploads_.received(repo, id));
  if (req.method == "DELETE") {
    uploads_.cancel(repo, id);
    return empty(204);
  }
  if (req.method == "PATCH") {
    std::optional<uint64_t> at;
    std::string range = req.header("content-range");
    if (!range.empty()) {
      if (range.rfind("bytes ", 0) == 0) range = range.substr(6);
      try {
        at = std::stoull(range.substr(0, range.find('-')));
      } catch (const std::exception&) {
        throw RegistryError(ErrorCode::kRangeInvalid, "bad Content-Range", json(range));
      }
    }
    uint64_t received = uploads_.append(repo, id, at, req.read_body);
    return upload_answer(202, repo, id, received);
  }
  if (req.method == "PUT") {
    if (!req.has_query("digest"))
      throw RegistryError(ErrorCode::kDigestInvalid, "the digest query parameter is required");
    std::string digest = req.q("digest");
    check_digest_param(digest);
    uploads_.finish(repo, id, digest, req.read_body);
    return blob_created(repo, digest);
  }
  throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
}

HttpResponse Routes::manifest(HttpRequest& req, const std::string& repo, const std::string& ref) {
  if (!is_tag_or_digest(ref)) {
    if (ref.find(':') != std::string::npos)
      throw RegistryError(ErrorCode::kDigestInvalid, "invalid digest", json(ref));
    throw RegistryError(ErrorCode::kTagInvalid, "invalid tag", json(ref));
  }
  if (req.method == "PUT") return put_manifest(req, repo, ref);
  if (req.method == "DELETE") {
    if (!delete_enabled_)
      throw RegistryError(ErrorCode::kUnsupported, "deletion is disabled (storage.delete.enabled)");
    bool gone = ref.find(':') != std::string::npos ? storage_.delete_manifest(repo, ref)
                                                   : storage_.delete_tag(repo, ref);
    if (!gone) throw RegistryError(ErrorCode::kManifestUnknown, "manifest unknown", json(ref));
    return empty(202);
  }
  if (req.method != "GET" && req.method != "HEAD")
    throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
  if (proxy_) proxy_->manifest(repo, ref, req.header("accept"));
  auto m = storage_.resolve(repo, ref);
  if (!m) {
    if (!storage_.repository_exists(repo))
      throw RegistryError(ErrorCode::kNameUnknown, "repository name not known to registry",
                          json{{"name", repo}});
    throw RegistryError(ErrorCode::kManifestUnknown, "manifest unknown", json{{"Tag", ref}});
  }
  auto types = accepted(req.header("accept"));
  if (!types.empty() && std::find(types.begin(), types.end(), m->media_type) == types.end() &&
      std::find(types.begin(), types.end(), "*/*") == types.end())
    throw RegistryError(ErrorCode::kManifestUnknown,
                        "the manifest is a " + m->media_type + ", which the client does not accept",
                        json{{"mediaType", m->media_type}});
  HttpResponse res;
  res.body = storage_.blobs().read(m->digest);
  res.set("Content-Type", m->media_type);
  res.set("Docker-Content-Digest", m->digest);
  res.set("ETag", "\"" + m->digest + "\"");
  return res;
}

HttpResponse Routes::put_manifest(HttpRequest& req, const std::string& repo,
                                  const std::string& ref) {
  std::string body = read_all(req, kMaxManifestBytes);
  std::string content_type =
      trim(req.header("content-type").substr(0, req.header("content-type").find(';')));
  // Clients that do not know the type send a generic one; the body's mediaType decides.
  if (content_type == "application/json" || content_type == "application/octet-stream")
    content_type.clear();
  ManifestInfo info = parse_manifest(body, content_type);
  std::string digest = image::sha256_digest(body);
  if (ref.find(':') != std::string::npos && ref != digest)
    throw RegistryError(ErrorCode::kDigestInvalid, "manifest digest does not match the reference",
                        json{{"reference", ref}, {"digest", digest}});
  for (auto& b : info.blobs)
    if (!storage_.blob_linked(repo, b))
      throw RegistryError(ErrorCode::kManifestBlobUnknown, "blob unknown to registry",
                          json{{"digest", b}});
  for (auto& child : info.manifests)
    if (!storage_.resolve(repo, child))
      throw RegistryError(ErrorCode::kManifestBlobUnknown, "manifest unknown to registry",
                          json{{"digest", child}});
  storage_.put_manifest(repo, {digest, info.media_type}, body);
  if (ref.find(':') == std::string::npos) storage_.tag(repo, ref, digest);
  HttpResponse res = empty(201);
  if (info.subject) {
    storage_.add_referrer(repo, *info.subject, digest);
    res.set("OCI-Subject", *info.subject);
  }
  res.set("Location", "/v2/" + repo + "/manifests/" + digest);
  res.set("Docker-Content-Digest", digest);
  return res;
}

HttpResponse Routes::referrers(HttpRequest& req, const std::string& repo,
                               const std::string& digest) {
  if (req.method != "GET" && req.method != "HEAD")
    throw RegistryError(ErrorCode::kUnsupported, "method not allowed", json(req.method));
  check_digest_param(digest);
  std::string filter = req.q("artifactType");
  json list = json::array();
  for (auto& d : storage_.referrers(repo, digest)) {
    auto m = storage_.resolve(repo, d);
    if (!m) continue;
    std::string body = storage_.blobs().read(d);
    ManifestInfo info = parse_manifest(body, m->media_type);
    if (!filter.empty() && info.artifact_type != filter) continue;
    json desc = {{"mediaType", m->media_type}, {"digest", d}, {"size", body.size()}};
    if (!info.artifact_type.empty()) desc["artifactType"] = info.artifact_type;
    if (!info.annotations.is_null()) desc["annotations"] = info.annotations;
    list.push_back(std::move(desc));
  }
  HttpResponse res =
      json_response(200, json{{"schemaVersion", 2},
                              {"mediaType", "application/vnd.oci.image.index.v1+json"},
                              {"manifests", list}});
  res.headers.clear();
  res.set("Content-Type", "application/vnd.oci.image.index.v1+json");
  if (!filter.empty()) res.set("OCI-Filters-Applied", "artifactType");
  return res;
}

}  // namespace berth::registry
