#include "registry/server_proxy.h"

#include <openssl/evp.h>
#include <strings.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <functional>
#include <limits>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/error.h"
#include "base/fs.h"
#include "base/log.h"
#include "image/digest.h"
#include "registry/http_text.h"
#include "registry/server_manifest.h"

namespace berth::registry {

namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

// An upstream that accepts a connection and then says nothing is given up on after this.
constexpr int kUpstreamTimeoutSeconds = 30;
constexpr size_t kMaxSmallBody = 4 << 20;
constexpr int kMaxRedirects = 5;

struct Url {
  bool tls = false;
  std::string host, port, path;  // path: "/..." with the query
};

Url parse_url(const std::string& url) {
  Url u;
  std::string rest;
  if (url.rfind("https://", 0) == 0) {
    u.tls = true;
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    throw InvalidArgument("proxy: " + url + " is not an http:// or https:// URL");
  }
  auto slash = rest.find('/');
  std::string authority = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']', colon) == std::string::npos) {
    u.host = authority.substr(0, colon);
    u.port = authority.substr(colon + 1);
  } else {
    u.host = authority;
    u.port = u.tls ? "443" : "80";
  }
  if (!u.host.empty() && u.host.front() == '[') u.host = u.host.substr(1, u.host.size() - 2);
  if (u.host.empty()) throw InvalidArgument("proxy: " + url + " names no host");
  return u;
}

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
};

using Sink = std::function<void(std::string_view)>;

template <class Stream>
Response exchange(Stream& stream, const http::request<http::empty_body>& req, const Sink* sink) {
  http::write(stream, req);
  boost::beast::flat_buffer buf;
  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  if (req.method() == http::verb::head) parser.skip(true);
  http::read_header(stream, buf, parser);
  Response r;
  r.status = static_cast<int>(parser.get().result_int());
  for (auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    r.headers[name] = std::string(f.value());
  }
  bool stream_out = sink && r.status == 200;
  char chunk[1 << 16];
  while (!parser.is_done()) {
    parser.get().body().data = chunk;
    parser.get().body().size = sizeof chunk;
    boost::system::error_code ec;
    http::read(stream, buf, parser, ec);
    if (ec && ec != http::error::need_buffer) throw boost::system::system_error(ec);
    size_t n = sizeof chunk - parser.get().body().size;
    if (stream_out) {
      (*sink)(std::string_view(chunk, n));
    } else {
      if (r.body.size() + n > kMaxSmallBody) throw Error("upstream answer too large");
      r.body.append(chunk, n);
    }
  }
  return r;
}

// One request on a connection of its own.
Response request(const std::string& method, const std::string& url,
                 const std::vector<std::string>& headers, const Sink* sink) {
  Url u = parse_url(url);
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  auto endpoints = resolver.resolve(u.host, u.port);
  http::request<http::empty_body> req{http::string_to_verb(method), u.path, 11};
  req.set(http::field::host, u.port == (u.tls ? "443" : "80") ? u.host : u.host + ":" + u.port);
  req.set(http::field::user_agent, "berth-registry/" BERTH_VERSION);
  for (auto& h : headers) {
    auto colon = h.find(':');
    req.set(h.substr(0, colon), trim(h.substr(colon + 1)));
  }
  auto timeouts = [](tcp::socket& s) {
    timeval tv{kUpstreamTimeoutSeconds, 0};
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(s.native_handle(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  };
  if (!u.tls) {
    tcp::socket sock(ioc);
    asio::connect(sock, endpoints);
    timeouts(sock);
    return exchange(sock, req, sink);
  }
  ssl::context ctx(ssl::context::tls_client);
  ctx.set_default_verify_paths();
  ctx.set_verify_mode(ssl::verify_peer);
  ssl::stream<tcp::socket> stream(ioc, ctx);
  SSL_set_tlsext_host_name(stream.native_handle(), u.host.c_str());
  stream.set_verify_callback(ssl::host_name_verification(u.host));
  asio::connect(stream.next_layer(), endpoints);
  timeouts(stream.next_layer());
  stream.handshake(ssl::stream_base::client);
  return exchange(stream, req, sink);
}

}  // namespace

struct Proxy::Impl {
  ProxyConfig config;
  Storage& storage;
  std::string base;  // remoteurl without a trailing slash
  std::mutex mu;
  std::map<std::string, std::string> tokens;  // by repository

  Impl(const ProxyConfig& c, Storage& s) : config(c), storage(s), base(c.remoteurl) {
    while (!base.empty() && base.back() == '/') base.pop_back();
    parse_url(base);
  }

  std::string basic() const {
    return "Authorization: Basic " + base64_encode(config.username + ":" + config.password);
  }

  // Answers a 401's challenge for `repo`; false when it cannot.
  bool authenticate(const std::string& repo, const Response& denied) {
    std::string challenge = denied.header("www-authenticate");
    if (strncasecmp(challenge.c_str(), "basic", 5) == 0) {
      if (config.username.empty()) return false;
      std::lock_guard lock(mu);
      tokens[repo] = basic();
      return true;
    }
    if (strncasecmp(challenge.c_str(), "bearer", 6) != 0) return false;
    std::map<std::string, std::string> params;
    for (auto& c : parse_www_authenticate(challenge))
      if (c.scheme == "bearer") params = c.params;
    if (params["realm"].empty()) return false;
    std::string url = params["realm"] +
                      (params["realm"].find('?') == std::string::npos ? "?" : "&") +
                      "service=" + query_escape(params["service"]) +
                      "&scope=" + query_escape("repository:" + repo + ":pull");
    std::vector<std::string> headers;
    if (!config.username.empty()) headers.push_back(basic());
    Response r = request("GET", url, headers, nullptr);
    if (r.status != 200) {
      log::warn("proxy: the upstream's token service " + params["realm"] + " answered " +
                std::to_string(r.status));
      return false;
    }
    json j = json::parse(r.body, nullptr, false);
    std::string token = j.is_object() ? j.value("token", "") : "";
    if (token.empty() && j.is_object()) token = j.value("access_token", "");
    if (token.empty()) return false;
    std::lock_guard lock(mu);
    tokens[repo] = "Authorization: Bearer " + token;
    return true;
  }

  // A GET or HEAD of the upstream's /v2/<repo>/<path>, with its auth, following redirects
  // (blob stores send clients elsewhere, without the registry's credentials).
  Response get(const std::string& method, const std::string& repo, const std::string& path,
               std::vector<std::string> headers, const Sink* sink) {
    std::string url = base + "/v2/" + repo + "/" + path;
    auto with_auth = [&] {
      std::vector<std::string> h = headers;
      std::lock_guard lock(mu);
      auto it = tokens.find(repo);
      if (it != tokens.end()) h.push_back(it->second);
      return h;
    };
    Response r = request(method, url, with_auth(), sink);
    if (r.status == 401 && authenticate(repo, r)) r = request(method, url, with_auth(), sink);
    for (int i = 0; i < kMaxRedirects && r.status >= 301 && r.status <= 308 && r.status != 304;
         ++i) {
      std::string location = r.header("location");
      if (location.empty()) break;
      if (location[0] == '/') {
        Url u = parse_url(url);
        location = (u.tls ? "https://" : "http://") + u.host + ":" + u.port + location;
      }
      url = location;
      r = request(method, url, headers, sink);
    }
    return r;
  }

  // Fetches and stores a manifest; returns its digest, or nullopt when the upstream has none.
  std::optional<std::string> fetch_manifest(const std::string& repo, const std::string& ref,
                                            const std::string& accept) {
    Response r = get("GET", repo, "manifests/" + ref, {"Accept: " + accept}, nullptr);
    if (r.status != 200) {
      log::info("proxy: manifest " + repo + ":" + ref + ": the upstream answered " +
                std::to_string(r.status));
      return std::nullopt;
    }
    std::string digest = image::sha256_digest(r.body);
    if (ref.find(':') != std::string::npos && ref != digest)
      throw Error("proxy: the upstream's manifest " + ref + " has the digest " + digest);
    std::string type = trim(r.header("content-type").substr(0, r.header("content-type").find(';')));
    if (!is_manifest_media_type(type)) type.clear();
    ManifestInfo info = parse_manifest(r.body, type);
    storage.put_manifest(repo, {digest, info.media_type}, r.body);
    return digest;
  }
};

Proxy::Proxy(const ProxyConfig& config, Storage& storage)
    : impl_(std::make_unique<Impl>(config, storage)) {}

Proxy::~Proxy() = default;

bool Proxy::blob(const std::string& repo, const std::string& digest) {
  if (impl_->storage.blob_linked(repo, digest)) return true;
  try {
    // Stored for another repository: this one gets it only if the upstream says it has it,
    // so a digest known from elsewhere opens nothing the upstream would not.
    if (impl_->storage.blobs().has(digest)) {
      Response head = impl_->get("HEAD", repo, "blobs/" + digest, {}, nullptr);
      if (head.status != 200) return false;
      impl_->storage.link_blob(repo, digest);
      return true;
    }
    auto writer = impl_->storage.blobs().writer();
    Sink sink = [&](std::string_view data) { writer->write(data); };
    Response r = impl_->get("GET", repo, "blobs/" + digest, {}, &sink);
    if (r.status != 200) {
      log::info("proxy: blob " + digest + " of " + repo + ": the upstream answered " +
                std::to_string(r.status));
      return false;
    }
    writer->commit(digest);
    impl_->storage.link_blob(repo, digest);
    log::info("proxy: stored blob " + digest + " of " + repo);
    return true;
  } catch (const std::exception& e) {
    log::warn("proxy: blob " + digest + " of " + repo + ": " + e.what());
    return false;
  }
}

void Proxy::manifest(const std::string& repo, const std::string& reference,
                     const std::string& accept) {
  std::string types = accept.empty() ? std::string(
                                           "application/vnd.docker.distribution.manifest.v2+json, "
                                           "application/vnd.docker.distribution.manifest.list.v2+"
                                           "json, application/vnd.oci.image.manifest.v1+json, "
                                           "application/vnd.oci.image.index.v1+json")
                                     : accept;
  try {
    if (reference.find(':') != std::string::npos) {
      if (!impl_->storage.resolve(repo, reference)) impl_->fetch_manifest(repo, reference, types);
      return;
    }
    // A HEAD says which manifest the tag names now; only one not stored yet is fetched.
    Response head =
        impl_->get("HEAD", repo, "manifests/" + reference, {"Accept: " + types}, nullptr);
    if (head.status != 200) {
      log::info("proxy: tag " + repo + ":" + reference + ": the upstream answered " +
                std::to_string(head.status));
      return;
    }
    std::string digest = head.header("docker-content-digest");
    if (!image::is_digest(digest) || !impl_->storage.resolve(repo, digest)) {
      auto fetched = impl_->fetch_manifest(repo, reference, types);
      if (!fetched) return;
      digest = *fetched;
    }
    impl_->storage.tag(repo, reference, digest);
  } catch (const std::exception& e) {
    log::warn("proxy: manifest " + repo + ":" + reference + ", served from the store: " + e.what());
  }
}

std::optional<std::vector<std::string>> Proxy::tags(const std::string& repo) {
  try {
    Response r = impl_->get("GET", repo, "tags/list", {}, nullptr);
    if (r.status != 200) return std::nullopt;
    json j = json::parse(r.body);
    std::vector<std::string> out;
    for (auto& t : j.at("tags")) out.push_back(t.get<std::string>());
    std::sort(out.begin(), out.end());
    return out;
  } catch (const std::exception& e) {
    log::warn("proxy: tags of " + repo + ", served from the store: " + e.what());
    return std::nullopt;
  }
}

}  // namespace berth::registry
