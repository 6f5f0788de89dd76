// A berth-registry served in-process on a loopback port of its own, over its own temporary
// storage, and a small HTTP client for the tests of its routes.
#pragma once

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "image/digest.h"
#include "registry/server.h"
#include "support/temp_dir.h"

namespace berth::registry::test {

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;

  std::string header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  nlohmann::json json() const { return nlohmann::json::parse(body); }
  // The code of the first error of an error body.
  std::string code() const {
    auto j = nlohmann::json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("errors") || j["errors"].empty()) return "";
    return j["errors"][0].value("code", "");
  }
};

class RegistryServerTest : public ::testing::Test {
 protected:
  RegistryServerTest() : dir_("registry-server") { config_.root = dir_ / "data"; }

  void TearDown() override { stop(); }

  void start() {
    config_.addr = "127.0.0.1:0";
    config_.access_log = false;
    server_ = std::make_unique<RegistryServer>(config_);
    port_ = server_->port();
    thread_ = std::thread([this] { server_->run(); });
  }

  void stop() {
    if (!server_) return;
    server_->stop();
    thread_.join();
    server_.reset();
  }

  Reply call(const std::string& method, const std::string& target, const std::string& body = "",
             const std::map<std::string, std::string>& headers = {}) {
    namespace http = boost::beast::http;
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::socket sock(ioc);
    sock.connect({boost::asio::ip::make_address("127.0.0.1"), port_});
    http::request<http::string_body> req{http::string_to_verb(method), target, 11};
    req.set(http::field::host, "127.0.0.1");
    for (auto& [k, v] : auth_) req.set(k, v);
    for (auto& [k, v] : headers) req.set(k, v);
    req.body() = body;
    if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH")
      req.prepare_payload();
    http::write(sock, req);
    boost::beast::flat_buffer buf;
    http::response_parser<http::string_body> parser;
    parser.body_limit(1 << 30);
    if (method == "HEAD") parser.skip(true);
    http::read(sock, buf, parser);
    Reply r;
    r.status = parser.get().result_int();
    for (auto& f : parser.get()) {
      std::string name(f.name_string());
      for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      r.headers[name] = std::string(f.value());
    }
    r.body = parser.get().body();
    return r;
  }

  // Pushes a blob in one POST; returns its digest.
  std::string push_blob(const std::string& repo, const std::string& data) {
    std::string digest = image::sha256_digest(data);
    Reply r = call("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest, data);
    EXPECT_EQ(r.status, 201) << r.body;
    return digest;
  }

  // An image manifest of the given media type over a config and layers already pushed.
  static std::string image_manifest(
      const std::string& config, const std::string& config_digest,
      const std::vector<std::pair<std::string, std::string>>& layers,
      const std::string& media_type = "application/vnd.oci.image.manifest.v1+json") {
    nlohmann::json m = {{"schemaVersion", 2},
                        {"mediaType", media_type},
                        {"config",
                         {{"mediaType", "application/vnd.oci.image.config.v1+json"},
                          {"digest", config_digest},
                          {"size", config.size()}}}};
    m["layers"] = nlohmann::json::array();
    for (auto& [data, digest] : layers)
      m["layers"].push_back({{"mediaType", "application/vnd.oci.image.layer.v1.tar"},
                             {"digest", digest},
                             {"size", data.size()}});
    return m.dump();
  }

  // Pushes a config, one layer and a manifest tagged `tag`; returns the manifest's digest.
  std::string push_image(const std::string& repo, const std::string& tag,
                         const std::string& layer) {
    std::string config = R"({"architecture":"amd64","os":"linux","layer":")" + layer + "\"}";
    std::string cd = push_blob(repo, config);
    std::string ld = push_blob(repo, layer);
    std::string manifest = image_manifest(config, cd, {{layer, ld}});
    Reply r = call("PUT", "/v2/" + repo + "/manifests/" + tag, manifest,
                   {{"Content-Type", "application/vnd.oci.image.manifest.v1+json"}});
    EXPECT_EQ(r.status, 201) << r.body;
    return image::sha256_digest(manifest);
  }

  berth::test::TempDir dir_;
  ServerConfig config_;
  std::unique_ptr<RegistryServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::map<std::string, std::string> auth_;
};

}  // namespace berth::registry::test
