// The HTTP exchange as the Engine API routes see it, independent of the server library.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "base/error.h"
#include "base/fd.h"

namespace berth::api {

// Pulls the request body in pieces; returns 0 at its end.
using BodyReader = std::function<size_t(char* buf, size_t len)>;
// Sends one piece of a streamed response; returns false once the client has gone. An empty
// piece sends nothing and only checks that the client is still there.
using ChunkWriter = std::function<bool(std::string_view data)>;

struct Request {
  std::string method;       // "GET", "HEAD", ...
  std::string path;         // without the /vX.Y prefix and the query
  std::string api_version;  // negotiated: the prefix's version, or the newest we speak
  std::multimap<std::string, std::string> query;
  std::map<std::string, std::string> params;   // {name} segments of the route
  std::map<std::string, std::string> headers;  // lower-case names
  // The whole body, for routes that do not stream it.
  std::string body;
  // For streaming routes (load, import): read the body piece by piece.
  BodyReader read_body;

  // The last value of a query parameter, or `def`.
  std::string q(const std::string& name, const std::string& def = "") const;
  // Docker's boolean query values: "1", "true", "True" are true; absent is `def`.
  bool flag(const std::string& name, bool def = false) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::map<std::string, std::string> headers;
  std::string body;
  // When set, the body is sent with chunked encoding by this function instead.
  std::function<void(const ChunkWriter&)> stream;
  // When set, the connection is hijacked as Docker's attach and exec do: the raw connection
  // is handed over, HTTP is over on it. `send_header` answers "101 UPGRADED" (or 200 to a
  // client that did not ask to upgrade) with `content_type`; the handler calls it once it
  // is ready for what the client does next (`docker run` starts the container as soon as
  // its attach is answered, so the attachment must be in place by then).
  std::function<void(UniqueFd conn, const std::function<void()>& send_header)> hijack;
};

// Waits until the client has read all that was sent on the hijacked `conn` (at most `limit`).
// Clients such as docker-py read the upgrade answer through a buffered reader and then the raw
// socket: what arrives on the answer's heels is swallowed by that buffer.
void wait_until_read(int conn, std::chrono::milliseconds limit);

// {"message": "..."} with Docker's status codes.
Response error_response(int status, const std::string& message);
// The one mapping from an error's kind to its HTTP status.
int status_for(ErrorKind kind);
Response json_response(const std::string& json_text, int status = 200);
// An answer without a body (204, 304, or Docker's empty 200s).
Response no_content(int status = 204);

}  // namespace berth::api
