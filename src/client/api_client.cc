#include <cctype>
#include <cstdio>

#include "base/fs.h"
#include "client/client.h"
#include "client/internal.h"

namespace berth::client {

std::string url_escape(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

std::string path_escape(const std::string& s) {
  std::string out;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '/' || s[i] == ':' || s[i] == '@') {
      out += url_escape(s.substr(start, i - start));
      if (i < s.size()) out += s[i];
      start = i + 1;
    }
  }
  return out;
}

std::string Query::encode() const {
  std::string s;
  for (const auto& [k, v] : params_)
    s += (s.empty() ? "?" : "&") + url_escape(k) + "=" + url_escape(v);
  return s;
}

std::string filters_json(const std::vector<std::string>& filters) {
  if (filters.empty()) return "";
  nlohmann::json j = nlohmann::json::object();
  for (const auto& f : filters) {
    size_t eq = f.find('=');
    if (eq == std::string::npos) throw Error("bad format of filter (expected name=value)");
    std::string key = f.substr(0, eq);
    for (auto& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    j[key][f.substr(eq + 1)] = true;
  }
  return j.dump();
}

namespace {

std::pair<int, int> parse_version(const std::string& v) {
  int major = 0, minor = 0;
  std::sscanf(v.c_str(), "%d.%d", &major, &minor);
  return {major, minor};
}

}  // namespace

ConnectError cannot_connect(const std::string& host) {
  return ConnectError("Cannot connect to the berth daemon at " + host +
                      ". Is the berth daemon running?");
}

std::string daemon_message(int status, const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("message") && j["message"].is_string())
    return j["message"].get<std::string>();
  std::string text = trim(body);
  return text.empty() ? "HTTP status " + std::to_string(status) : text;
}

std::string negotiate_version(const std::string& client, const std::string& server) {
  if (server.empty()) return client;
  return parse_version(server) < parse_version(client) ? server : client;
}

ApiClient::ApiClient(std::string host) : host_(std::move(host)), socket_(socket_path_of(host_)) {}

HttpResponse ApiClient::send(const HttpRequest& req, const HeadSink& head, const BodySink& sink) {
  try {
    return http_send(socket_, req, head, sink);
  } catch (const ConnectError&) {
    throw cannot_connect(host_);
  }
}

void ApiClient::negotiate() {
  if (negotiated_) return;
  HttpRequest req;
  req.target = "/_ping";
  HttpResponse resp = send(
      req, [](const HttpResponse&) {}, [](std::string_view) {});
  server_version_ = resp.header("api-version");
  // Docker assumes the oldest API it knows when the daemon does not say.
  version_ =
      server_version_.empty() ? "1.24" : negotiate_version(kClientApiVersion, server_version_);
  negotiated_ = true;
}

const std::string& ApiClient::version() {
  negotiate();
  return version_;
}

const std::string& ApiClient::server_api_version() {
  negotiate();
  return server_version_;
}

nlohmann::json ApiClient::call(const std::string& method, const std::string& path, const Query& q,
                               const nlohmann::json* body) {
  HttpRequest req;
  req.method = method;
  if (body) {
    req.body = body->dump();
    req.headers.emplace_back("Content-Type", "application/json");
  }
  std::string text;
  stream(std::move(req), path, q, [&](std::string_view d) { text.append(d); });
  if (text.empty()) return nullptr;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded()) throw Error("invalid JSON from the daemon for " + method + " " + path);
  return j;
}

HttpResponse ApiClient::stream(HttpRequest req, const std::string& path, const Query& q,
                               const BodySink& sink, const HeadSink& on_head) {
  req.target = "/v" + version() + path + q.encode();
  std::string error_body;
  bool failed = false;
  HttpResponse resp = send(
      req,
      [&](const HttpResponse& head) {
        failed = head.status >= 400;
        if (!failed && on_head) on_head(head);
      },
      [&](std::string_view d) {
        if (failed) {
          error_body.append(d);
        } else {
          sink(d);
        }
      });
  if (resp.status >= 400) throw ApiError(resp.status, daemon_message(resp.status, error_body));
  return resp;
}

}  // namespace berth::client
