#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cctype>
#include <cerrno>
#include <limits>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it
#include <vector>

#include "client/client.h"
#include "client/internal.h"

namespace berth::client {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

constexpr size_t kChunk = 256 * 1024;

// Reads up to `cap` bytes from `fd`, retrying on EINTR; 0 at end of file.
size_t read_some(int fd, char* buf, size_t cap) {
  for (;;) {
    ssize_t n = ::read(fd, buf, cap);
    if (n >= 0) return static_cast<size_t>(n);
    if (errno != EINTR) throw_errno("read request body");
  }
}

// Streams the body after the header has gone out. Returns false when the daemon closed the
// connection early, which it does when it rejects the request before reading it all; the
// response it sent then explains why.
bool send_body(unix_socket::socket& sock, const HttpRequest& req) {
  std::vector<char> buf(kChunk);
  uint64_t sent = 0;
  boost::system::error_code ec;
  for (;;) {
    size_t n = read_some(req.body_fd, buf.data(), buf.size());
    if (n == 0) break;
    if (req.body_size >= 0) {
      asio::write(sock, asio::buffer(buf.data(), n), ec);
    } else {
      asio::write(sock, http::make_chunk(asio::buffer(buf.data(), n)), ec);
    }
    if (ec) return false;
    sent += n;
    if (req.on_sent) req.on_sent(sent);
  }
  if (req.body_size < 0) asio::write(sock, http::make_chunk_last(), ec);
  return !ec;
}

}  // namespace

HttpResponse http_send(const std::string& socket_path, const HttpRequest& req,
                       const HeadSink& on_head, const BodySink& on_body) {
  asio::io_context ioc;
  unix_socket::socket sock(ioc);
  boost::system::error_code ec;
  sock.connect(unix_socket::endpoint(socket_path), ec);
  if (ec) throw ConnectError("connect to " + socket_path + ": " + ec.message(), ec.value());

  http::request<http::string_body> hreq{http::string_to_verb(req.method), req.target, 11};
  hreq.set(http::field::host, "berth");
  hreq.set(http::field::user_agent, kUserAgent);
  for (const auto& [k, v] : req.headers) hreq.set(k, v);
  bool body_ok = true;
  if (req.body_fd >= 0) {
    if (req.body_size >= 0) {
      hreq.content_length(static_cast<uint64_t>(req.body_size));
    } else {
      hreq.chunked(true);
    }
    http::request_serializer<http::string_body> sr{hreq};
    http::write_header(sock, sr, ec);
    if (ec) throw Error("send request: " + ec.message());
    body_ok = send_body(sock, req);
  } else {
    hreq.body() = req.body;
    if (!req.body.empty() || req.method == "POST" || req.method == "PUT") hreq.prepare_payload();
    http::write(sock, hreq, ec);
    if (ec) throw Error("send request: " + ec.message());
  }

  boost::beast::flat_buffer buf;
  // Beast reads at most what the buffer holds free (512 bytes at first): a tar of hundreds
  // of megabytes (cp, export, save) would come in 512-byte reads.
  buf.reserve(kChunk);
  http::response_parser<http::buffer_body> parser;
  // Not boost::none: Beast 1.74 compares Content-Length against the optional itself, and an
  // empty optional is smaller than every length.
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());
  // The answer to a HEAD has the length of a body it does not carry.
  if (req.method == "HEAD") parser.skip(true);
  http::read_header(sock, buf, parser, ec);
  if (ec) {
    if (!body_ok) throw Error("the daemon closed the connection while the request body was sent");
    throw Error("read response: " + ec.message());
  }
  HttpResponse resp;
  resp.status = static_cast<int>(parser.get().result_int());
  for (const auto& f : parser.get()) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    resp.headers[name] = std::string(f.value());
  }
  on_head(resp);
  std::vector<char> chunk(kChunk);
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    // read_some hands over what has arrived: an event stream must not wait for a full buffer.
    http::read_some(sock, buf, parser, ec);
    if (ec == http::error::need_buffer) ec = {};
    if (ec == http::error::end_of_stream || ec == asio::error::eof) {
      // A body delimited by the end of the connection ends here.
      size_t n = chunk.size() - parser.get().body().size;
      if (n > 0) on_body(std::string_view(chunk.data(), n));
      break;
    }
    if (ec) throw Error("read response body: " + ec.message());
    size_t n = chunk.size() - parser.get().body().size;
    if (n > 0) on_body(std::string_view(chunk.data(), n));
  }
  return resp;
}

}  // namespace berth::client
