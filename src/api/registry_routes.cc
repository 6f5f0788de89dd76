#include "api/registry_routes.h"

#include <openssl/evp.h>

#include <nlohmann/json.hpp>

#include "api/json_message.h"
#include "base/log.h"

namespace berth::api {
namespace {

using nlohmann::json;

// Docker sends X-Registry-Auth in URL-safe base64 (older clients: standard, padded or not).
std::string base64_decode(std::string in) {
  for (auto& c : in) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (!in.empty() && (in.back() == '=' || in.back() == '\n')) in.pop_back();
  size_t pad = (4 - in.size() % 4) % 4;
  if (pad == 3) throw InvalidArgument("invalid X-Registry-Auth header: bad base64");
  in.append(pad, '=');
  std::string out(in.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()),
                          static_cast<int>(in.size()));
  if (n < 0) throw InvalidArgument("invalid X-Registry-Auth header: bad base64");
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

engine::Credentials credentials_json(const json& j) {
  engine::Credentials c;
  auto str = [&](const char* key) {
    return j.contains(key) && j[key].is_string() ? j[key].get<std::string>() : "";
  };
  c.username = str("username");
  c.password = str("password");
  c.identity_token = str("identitytoken");
  c.registry_token = str("registrytoken");
  // The legacy "auth" field: base64 of user:password.
  if (c.username.empty() && !str("auth").empty()) {
    std::string up = base64_decode(str("auth"));
    auto colon = up.find(':');
    if (colon != std::string::npos) {
      c.username = up.substr(0, colon);
      c.password = up.substr(colon + 1);
    }
  }
  return c;
}

engine::Credentials registry_auth(const Request& req) {
  auto it = req.headers.find("x-registry-auth");
  if (it == req.headers.end() || it->second.empty()) return {};
  json j;
  try {
    j = json::parse(base64_decode(it->second));
  } catch (const json::exception&) {
    throw InvalidArgument("invalid X-Registry-Auth header: not JSON");
  }
  if (!j.is_object()) throw InvalidArgument("invalid X-Registry-Auth header: not an object");
  return credentials_json(j);
}

// Docker's JSON message for one progress report.
std::string message(const engine::TransferProgress& p) {
  json j;
  j["status"] = p.status;
  if (p.detail) {
    j["progressDetail"] = json::object();
    if (p.total > 0 || p.current > 0) {
      j["progressDetail"]["current"] = p.current;
      if (p.total > 0) j["progressDetail"]["total"] = p.total;
    }
  }
  if (!p.id.empty()) j["id"] = p.id;
  std::string out = json_message(j);
  if (p.pushed)
    out += json_message(
        {{"progressDetail", json::object()},
         {"aux",
          {{"Tag", p.pushed->tag}, {"Digest", p.pushed->digest}, {"Size", p.pushed->size}}}});
  return out;
}

// The transfer as a stream; an error after it started is the stream's last message.
Response transfer_stream(std::function<void(const engine::TransferFn&)> run) {
  Response r;
  r.stream = [run = std::move(run)](const ChunkWriter& write) {
    try {
      run([&](const engine::TransferProgress& p) {
        if (!write(message(p))) throw Error("client went away");
      });
    } catch (const std::exception& e) {
      log::info(std::string("registry transfer: ") + e.what());
      write(json_message({{"errorDetail", {{"message", e.what()}}}, {"error", e.what()}}));
    }
  };
  return r;
}

}  // namespace

Response pull_image(engine::Engine& s, const Request& req) {
  engine::PullRequest pr;
  pr.image = req.q("fromImage");
  pr.tag = req.q("tag");
  pr.platform = req.q("platform");
  pr.auth = registry_auth(req);
  return transfer_stream(s.images().pull(pr));
}

void add_registry_routes(Router& router, engine::Engine& s) {
  router.add("POST", "/images/{name}/push", [&s](const Request& req) {
    engine::PushRequest pr;
    pr.image = req.params.at("name");
    pr.tag = req.q("tag");
    pr.auth = registry_auth(req);
    return transfer_stream(s.images().push(pr));
  });

  router.add("POST", "/auth", [&s](const Request& req) {
    json j;
    try {
      j = json::parse(req.body);
    } catch (const json::exception& e) {
      throw InvalidArgument(std::string("invalid JSON: ") + e.what());
    }
    if (!j.is_object()) throw InvalidArgument("invalid JSON: expected an object");
    std::string server = j.contains("serveraddress") && j["serveraddress"].is_string()
                             ? j["serveraddress"].get<std::string>()
                             : "";
    try {
      s.images().login(server, credentials_json(j));
    } catch (const registry::Unauthorized& e) {
      return error_response(401, e.what());
    }
    return json_response(json{{"Status", "Login Succeeded"}, {"IdentityToken", ""}}.dump());
  });
}

}  // namespace berth::api
