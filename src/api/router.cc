#include "api/router.h"

#include <sys/ioctl.h>

#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>

#include "api/json_depth.h"
#include "base/error.h"
#include "base/fs.h"

namespace berth::api {

int status_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNotFound:
      return 404;
    case ErrorKind::kConflict:
      return 409;
    case ErrorKind::kInvalidArgument:
      return 400;
    case ErrorKind::kForbidden:
      return 403;
    case ErrorKind::kUnavailable:
      return 503;
    case ErrorKind::kInternal:
      break;
  }
  return 500;
}

void wait_until_read(int conn, std::chrono::milliseconds limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  int unread = 0;
  while (::ioctl(conn, TIOCOUTQ, &unread) == 0 && unread > 0 &&
         std::chrono::steady_clock::now() < end)
    std::this_thread::sleep_for(std::chrono::microseconds(100));
}

Response error_response(int status, const std::string& message) {
  // A message may quote the client's bytes (a parse error's "last read"); bytes that are not
  // UTF-8 are replaced, so that answering a bad request can never throw.
  return json_response(nlohmann::json{{"message", message}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace),
                       status);
}

Response no_content(int status) {
  Response r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  return r;
}

Response json_response(const std::string& json_text, int status) {
  Response r;
  r.status = status;
  r.body = json_text + "\n";
  return r;
}

int compare_api_versions(const std::string& a, const std::string& b) {
  auto pa = split(a, '.'), pb = split(b, '.');
  for (size_t i = 0; i < std::max(pa.size(), pb.size()); i++) {
    long x = i < pa.size() ? std::atol(pa[i].c_str()) : 0;
    long y = i < pb.size() ? std::atol(pb[i].c_str()) : 0;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

std::string url_decode(const std::string& s) {
  std::string out;
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] == '%' && i + 2 < s.size() && isxdigit(s[i + 1]) && isxdigit(s[i + 2])) {
      out.push_back(static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i] == '+' ? ' ' : s[i]);
    }
  }
  return out;
}

std::string Request::q(const std::string& name, const std::string& def) const {
  auto range = query.equal_range(name);
  if (range.first == range.second) return def;
  return std::prev(range.second)->second;
}

bool Request::flag(const std::string& name, bool def) const {
  auto it = query.find(name);
  if (it == query.end()) return def;
  const std::string& v = it->second;
  return v == "1" || v == "true" || v == "True" || v == "TRUE";
}

std::multimap<std::string, std::string> parse_query(const std::string& query) {
  std::multimap<std::string, std::string> out;
  for (auto& pair : split(query, '&')) {
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    out.emplace(url_decode(pair.substr(0, eq)),
                eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1)));
  }
  return out;
}

void Router::add(const std::string& method, const std::string& pattern, Handler handler,
                 bool streams_body) {
  std::vector<std::string> segs;
  for (auto& s : split(pattern, '/'))
    if (!s.empty()) segs.push_back(s);
  routes_.push_back({method, pattern, std::move(segs), std::move(handler), streams_body});
}

Response Router::handle(Request req, const BodyReader& body) const {
  std::string route;
  if (!observer_) return dispatch(std::move(req), body, route);
  auto start = std::chrono::steady_clock::now();
  std::string method = req.method;
  Response resp = dispatch(std::move(req), body, route);
  observer_(method, route, resp.status,
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return resp;
}

Response Router::dispatch(Request req, const BodyReader& body, std::string& route) const {
  auto q = req.path.find('?');
  if (q != std::string::npos) {
    req.query = parse_query(req.path.substr(q + 1));
    req.path.resize(q);
  }
  std::vector<std::string> segs;
  for (auto& s : split(req.path, '/'))
    if (!s.empty()) segs.push_back(url_decode(s));
  req.api_version = kApiVersion;
  if (!segs.empty() && segs[0].size() > 1 && segs[0][0] == 'v' && isdigit(segs[0][1])) {
    std::string v = segs[0].substr(1);
    if (compare_api_versions(v, kMinApiVersion) < 0)
      return error_response(
          400, "client version " + v + " is too old. Minimum supported API version is " +
                   kMinApiVersion + ", please upgrade your client to a newer version");
    if (compare_api_versions(v, kApiVersion) > 0)
      return error_response(
          400,
          "client version " + v + " is too new. Maximum supported API version is " + kApiVersion);
    req.api_version = v;
    segs.erase(segs.begin());
  }
  bool path_matched = false;
  for (auto& r : routes_) {
    if (r.segments.size() > segs.size()) continue;
    // {name} takes several segments, as moby's {name:.*}: image names hold slashes
    // (localhost:5000/user/app:tag).
    size_t extra = segs.size() - r.segments.size();
    std::map<std::string, std::string> params;
    bool ok = true;
    size_t j = 0;
    for (size_t i = 0; i < r.segments.size() && ok; i++) {
      const auto& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        std::string v = segs[j++];
        if (p == "{name}")
          for (; extra > 0; extra--) v += "/" + segs[j++];
        params[p.substr(1, p.size() - 2)] = v;
      } else {
        ok = p == segs[j++];
      }
    }
    if (!ok || j != segs.size()) continue;
    path_matched = true;
    // HEAD is answered by the GET handler; the server drops the body.
    if (r.method != req.method && !(req.method == "HEAD" && r.method == "GET")) continue;
    req.params = std::move(params);
    route = r.pattern;
    try {
      if (r.streams_body) {
        req.read_body = body;
      } else {
        // JSON bodies are small; a huge one is an attack or a mistake.
        constexpr size_t kLimit = 64u << 20;
        char buf[65536];
        size_t n;
        while ((n = body(buf, sizeof buf)) > 0) {
          req.body.append(buf, n);
          if (req.body.size() > kLimit) return error_response(413, "request body too large");
        }
        if (json_nesting_depth(req.body) > kMaxJsonDepth)
          return error_response(400, "invalid JSON: exceeded max depth");
      }
      return r.handler(req);
    } catch (const nlohmann::json::exception& e) {
      return error_response(400, std::string("invalid JSON: ") + e.what());
    } catch (const std::exception& e) {
      return error_response(status_for(kind_of(e)), e.what());
    }
  }
  if (path_matched) return error_response(405, "method " + req.method + " not allowed");
  return error_response(404, "page not found");
}

}  // namespace berth::api
