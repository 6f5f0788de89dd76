// The HTTP exchange as the Engine API routes see it, independent of the server library.
#pragma once

#include <map>
#include <string>

namespace berth::api {

struct Request {
  std::string method;  // "GET", "HEAD", ...
  std::string path;    // without the /vX.Y prefix and the query
  std::string api_version;  // negotiated: the prefix's version, or the newest we speak
  std::map<std::string, std::string> query;
  std::map<std::string, std::string> params;  // {name} segments of the route
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
};

// {"message": "..."} with Docker's status codes.
Response error_response(int status, const std::string& message);
Response json_response(const std::string& json_text, int status = 200);

}  // namespace berth::api
