// A session with one repository: requests carry the Authorization the registry asked for,
// obtained once (a 401 answers with its challenge) and shared by forked sessions.
#include <mutex>
#include <nlohmann/json.hpp>

#include "image/digest.h"
#include "registry/client_http.h"

namespace berth::registry {

using namespace wire;

namespace {

constexpr const char* kManifestAccept =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
constexpr size_t kMaxManifest = 4u << 20;

// "MANIFEST_UNKNOWN: manifest unknown" as Docker prints a registry's errors:
// "manifest unknown: manifest unknown".
std::string registry_errors(const HttpResult& r, std::string* first_code) {
  std::string out;
  try {
    auto j = nlohmann::json::parse(r.body);
    for (auto& e : j.at("errors")) {
      std::string code = e.value("code", "");
      if (first_code && first_code->empty()) *first_code = code;
      std::string words;
      for (char c : code)
        words += c == '_' ? ' ' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (!out.empty()) out += ", ";
      out += words + ": " + e.value("message", "");
    }
  } catch (const std::exception&) {
  }
  if (out.empty()) {
    out = "unexpected status " + std::to_string(r.status);
    if (r.status == 401) out = "unauthorized: authentication required";
    if (r.status == 404) out = "not found";
  }
  return out;
}

}  // namespace

struct SharedAuth {
  std::mutex mu;
  std::string header;  // "Authorization: ..." or ""
};

struct Client::State {
  Endpoint endpoint;
  std::string repository, actions;
  Credentials creds;
  std::shared_ptr<SharedAuth> auth = std::make_shared<SharedAuth>();
  CurlHandle curl = new_curl();

  std::string url(const std::string& path) const {
    return endpoint.base_url() + "/v2/" + (repository.empty() ? "" : repository + "/") + path;
  }

  // Answers the challenge of a 401; false when there is nothing to answer it with.
  bool authenticate(const HttpResult& denied) {
    for (auto& c : parse_www_authenticate(denied.header("www-authenticate"))) {
      if (c.scheme == "basic") {
        if (creds.username.empty() && creds.password.empty()) return false;
        set_auth("Basic " + base64_encode(creds.username + ":" + creds.password));
        return true;
      }
      if (c.scheme == "bearer") {
        set_auth("Bearer " + token(c));
        return true;
      }
    }
    return false;
  }

  void set_auth(const std::string& value) {
    std::lock_guard lock(auth->mu);
    auth->header = "Authorization: " + value;
  }

  // Docker's token flow: the realm gives a token for the service and scope, to the
  // credentials by basic auth (or in exchange for a refresh token).
  std::string token(const Challenge& c) {
    if (!creds.registry_token.empty()) return creds.registry_token;
    auto realm = c.params.find("realm");
    if (realm == c.params.end() || realm->second.empty())
      throw Unavailable(endpoint.host + ": the registry's Bearer challenge has no realm");
    std::string service = c.params.count("service") ? c.params.at("service") : "";
    std::string scope = repository.empty() ? "" : "repository:" + repository + ":" + actions;
    if (scope.empty() && c.params.count("scope")) scope = c.params.at("scope");
    HttpCall call;
    std::string form;
    if (!creds.identity_token.empty()) {
      call.method = "POST";
      call.url = realm->second;
      form = "grant_type=refresh_token&client_id=berth&refresh_token=" +
             query_escape(creds.identity_token) + "&service=" + query_escape(service) +
             (scope.empty() ? "" : "&scope=" + query_escape(scope));
      call.body = form;
      call.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    } else {
      call.url = realm->second + (realm->second.find('?') == std::string::npos ? "?" : "&") +
                 "service=" + query_escape(service) +
                 (scope.empty() ? "" : "&scope=" + query_escape(scope));
      if (!creds.username.empty() || !creds.password.empty())
        call.headers.push_back("Authorization: Basic " +
                               base64_encode(creds.username + ":" + creds.password));
    }
    auto r = perform(curl.get(), call);
    if (r.status == 401 || r.status == 403)
      throw Unauthorized("Get \"" + realm->second + "\": " + registry_errors(r, nullptr));
    if (r.status != 200)
      throw Unavailable("Get \"" + realm->second + "\": token service answered " +
                        std::to_string(r.status));
    try {
      auto j = nlohmann::json::parse(r.body);
      std::string t = j.value("token", "");
      if (t.empty()) t = j.value("access_token", "");
      if (!t.empty()) return t;
    } catch (const std::exception&) {
    }
    throw Unavailable("Get \"" + realm->second + "\": the token service gave no token");
  }

  // Sends with the current Authorization; a 401 is answered once and the call repeated,
  // unless its body is a stream already consumed.
  HttpResult send(HttpCall call) {
    auto with_auth = [&] {
      HttpCall c = call;
      std::lock_guard lock(auth->mu);
      if (!auth->header.empty()) c.headers.push_back(auth->header);
      return c;
    };
    auto r = perform(curl.get(), with_auth());
    if (r.status == 401 && !call.source && authenticate(r)) r = perform(curl.get(), with_auth());
    return r;
  }

  // An answer the caller did not expect, in the registry's words.
  [[noreturn]] void fail(const std::string& step, const HttpResult& r) {
    std::string code;
    std::string why = registry_errors(r, &code);
    std::string msg = step + ": " + why;
    if (r.status == 401) throw Unauthorized(msg);
    if (r.status == 403 || code == "DENIED" || code == "UNAUTHORIZED") throw Forbidden(msg);
    if (r.status == 404) throw NotFound(msg);
    if (r.status == 400) throw InvalidArgument(msg);
    throw Unavailable(msg);
  }
};

Client::Client(Endpoint endpoint, std::string repository, Credentials creds, std::string actions)
    : s_(std::make_unique<State>()) {
  s_->endpoint = std::move(endpoint);
  s_->repository = std::move(repository);
  s_->creds = std::move(creds);
  s_->actions = std::move(actions);
}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;

Client Client::fork() const {
  Client c(s_->endpoint, s_->repository, s_->creds, s_->actions);
  c.s_->auth = s_->auth;
  return c;
}

const Endpoint& Client::endpoint() const {
  return s_->endpoint;
}

void Client::login() {
  HttpCall call;
  call.url = s_->endpoint.base_url() + "/v2/";
  auto r = perform(s_->curl.get(), call);
  if (r.status == 401) {
    if (s_->creds.empty() || !s_->authenticate(r))
      throw Unauthorized("login attempt to " + call.url + " failed with status: 401 Unauthorized");
    r = s_->send(call);
  }
  if (r.status == 401 || r.status == 403)
    throw Unauthorized("login attempt to " + call.url +
                       " failed with status: " + std::to_string(r.status) +
                       (r.status == 401 ? " Unauthorized" : " Forbidden"));
  if (r.status != 200) s_->fail("login to " + call.url, r);
}

FetchedManifest Client::get_manifest(const std::string& reference) {
  HttpCall call;
  call.url = s_->url("manifests/" + reference);
  call.headers.push_back(kManifestAccept);
  auto r = s_->send(call);
  if (r.status != 200) s_->fail("manifest " + reference, r);
  if (r.body.size() > kMaxManifest)
    throw InvalidArgument("manifest " + reference + " is larger than 4 MiB");
  FetchedManifest m{r.header("content-type"), image::sha256_digest(r.body), std::move(r.body)};
  if (auto semi = m.media_type.find(';'); semi != std::string::npos) m.media_type.resize(semi);
  if (reference.rfind("sha256:", 0) == 0 && m.digest != reference)
    throw InvalidArgument("manifest verification failed for digest " + reference);
  return m;
}

std::vector<std::string> Client::list_tags() {
  std::vector<std::string> out;
  HttpCall call;
  call.url = s_->url("tags/list");
  for (int page = 0; page < 1000; page++) {
    auto r = s_->send(call);
    if (r.status != 200) s_->fail("tags of " + s_->repository, r);
    try {
      auto j = nlohmann::json::parse(r.body);
      if (j.contains("tags") && j["tags"].is_array())
        for (auto& t : j["tags"]) out.push_back(t.get<std::string>());
    } catch (const std::exception& e) {
      throw Unavailable("tags of " + s_->repository + ": " + e.what());
    }
    // Link: </v2/app/tags/list?last=x&n=100>; rel="next"
    std::string link = r.header("link");
    auto lt = link.find('<'), gt = link.find('>');
    if (lt == std::string::npos || gt == std::string::npos || gt < lt) break;
    std::string next = link.substr(lt + 1, gt - lt - 1);
    call.url = next.rfind("http", 0) == 0 ? next : s_->endpoint.base_url() + next;
  }
  return out;
}

void Client::fetch_blob(const std::string& digest, int64_t size, const SinkFn& sink,
                        const ProgressFn& progress) {
  image::Sha256 hash;
  uint64_t got = 0;
  SinkFn counted = [&](std::string_view data) {
    hash.update(data);
    got += data.size();
    sink(data);
  };
  HttpCall call;
  call.url = s_->url("blobs/" + digest);
  call.sink = &counted;
  if (progress) call.progress = &progress;
  auto r = s_->send(call);
  if (r.status != 200) s_->fail("blob " + digest, r);
  if (size >= 0 && got != static_cast<uint64_t>(size))
    throw InvalidArgument("blob " + digest + ": got " + std::to_string(got) +
                          " bytes, the manifest says " + std::to_string(size));
  std::string actual = hash.digest();
  if (actual != digest)
    throw InvalidArgument("filesystem layer verification failed for digest " + digest + " (got " +
                          actual + ")");
}

std::string Client::fetch_small_blob(const std::string& digest, int64_t size) {
  if (size > static_cast<int64_t>(kMaxManifest) * 4)
    throw InvalidArgument("blob " + digest + " is too large for a document");
  std::string out;
  fetch_blob(
      digest, size,
      [&](std::string_view d) {
        if (out.size() + d.size() > kMaxManifest * 4)
          throw InvalidArgument("blob " + digest + " is too large for a document");
        out.append(d);
      },
      nullptr);
  return out;
}

bool Client::has_blob(const std::string& digest) {
  HttpCall call;
  call.method = "HEAD";
  call.url = s_->url("blobs/" + digest);
  auto r = s_->send(call);
  if (r.status == 200) return true;
  if (r.status == 404) return false;
  s_->fail("blob " + digest, r);
}

namespace {

// The upload URL of a POST or PATCH answer, absolute, ready for more query parameters.
std::string upload_location(const Endpoint& ep, const HttpResult& r) {
  std::string loc = r.header("location");
  if (loc.empty()) throw Unavailable(ep.host + ": the registry gave no upload location");
  if (loc.rfind("http://", 0) != 0 && loc.rfind("https://", 0) != 0) loc = ep.base_url() + loc;
  return loc;
}

std::string with_digest(const std::string& loc, const std::string& digest) {
  return loc + (loc.find('?') == std::string::npos ? "?" : "&") + "digest=" + query_escape(digest);
}

}  // namespace

void Client::put_blob(const std::string& digest, std::string_view data) {
  HttpCall post;
  post.method = "POST";
  post.url = s_->url("blobs/uploads/");
  auto r = s_->send(post);
  if (r.status != 202) s_->fail("upload " + digest, r);
  HttpCall put;
  put.method = "PUT";
  put.url = with_digest(upload_location(s_->endpoint, r), digest);
  put.body = data;
  put.headers.push_back("Content-Type: application/octet-stream");
  r = s_->send(put);
  if (r.status != 201) s_->fail("upload " + digest, r);
}

void Client::upload_blob(const SourceFn& src, const std::function<std::string()>& digest_of,
                         const ProgressFn& progress) {
  HttpCall post;
  post.method = "POST";
  post.url = s_->url("blobs/uploads/");
  auto r = s_->send(post);
  if (r.status != 202) s_->fail("upload", r);
  HttpCall patch;
  patch.method = "PATCH";
  patch.url = upload_location(s_->endpoint, r);
  patch.source = &src;
  patch.headers.push_back("Content-Type: application/octet-stream");
  if (progress) patch.progress = &progress;
  r = s_->send(patch);
  if (r.status != 202) s_->fail("upload", r);
  std::string digest = digest_of();
  HttpCall put;
  put.method = "PUT";
  put.url = with_digest(upload_location(s_->endpoint, r), digest);
  r = s_->send(put);
  if (r.status != 201) s_->fail("upload " + digest, r);
}

std::string Client::put_manifest(const std::string& reference, const std::string& media_type,
                                 const std::string& body) {
  HttpCall put;
  put.method = "PUT";
  put.url = s_->url("manifests/" + reference);
  put.body = body;
  put.headers.push_back("Content-Type: " + media_type);
  auto r = s_->send(put);
  if (r.status != 201 && r.status != 200) s_->fail("manifest " + reference, r);
  return image::sha256_digest(body);
}

}  // namespace berth::registry
