// Engine API routing: versioned (/v1.44/...) and unversioned paths, Docker's version checks,
// {name} path parameters.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "api/http.h"

namespace berth::api {

inline constexpr const char* kMinApiVersion = "1.24";
inline constexpr const char* kApiVersion = "1.44";

// "1.44" < "1.9"? No: versions compare by their numbers.
int compare_api_versions(const std::string& a, const std::string& b);

class Router {
 public:
  using Handler = std::function<Response(const Request&)>;
  // Told of every request once it is answered (a stream: once its handler returned): the
  // route's pattern ("" when none matched), its status and the seconds it took.
  using Observer = std::function<void(const std::string& method, const std::string& route,
                                      int status, double seconds)>;
  // A route that streams its body gets Request::read_body; the others get Request::body.
  void add(const std::string& method, const std::string& pattern, Handler handler,
           bool streams_body = false);
  // Splits off the version prefix and query, checks the version, dispatches. `body` reads
  // the request body; it is read whole (up to a limit) for routes that do not stream it.
  Response handle(Request req, const BodyReader& body) const;
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  Response dispatch(Request req, const BodyReader& body, std::string& route) const;

  struct Route {
    std::string method;
    std::string pattern;
    std::vector<std::string> segments;
    Handler handler;
    bool streams_body;
  };
  std::vector<Route> routes_;
  Observer observer_;
};

std::multimap<std::string, std::string> parse_query(const std::string& query);
std::string url_decode(const std::string& s);

}  // namespace berth::api
