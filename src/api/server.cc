#include "api/server.h"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <thread>

#include "base/error.h"
#include "base/log.h"

namespace berth::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

struct Server::Impl {
  const Router& router;
  std::string path;
  asio::io_context ioc;
  unix_socket::acceptor acceptor{ioc};

  Impl(const Router& r, std::string p) : router(r), path(std::move(p)) {}

  void serve(unix_socket::socket sock) {
    boost::beast::flat_buffer buf;
    boost::system::error_code ec;
    for (;;) {
      http::request<http::string_body> hreq;
      http::read(sock, buf, hreq, ec);
      if (ec) return;  // closed, or garbage that is not HTTP
      Request req;
      req.method = std::string(hreq.method_string());
      req.path = std::string(hreq.target());
      for (auto& f : hreq) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[name] = std::string(f.value());
      }
      req.body = std::move(hreq.body());
      Response resp = router.handle(req);
      http::response<http::string_body> hres{static_cast<http::status>(resp.status), hreq.version()};
      hres.set(http::field::server, std::string("berth/") + BERTH_VERSION + " (linux)");
      hres.set("Api-Version", kApiVersion);
      hres.set("Docker-Experimental", "false");
      hres.set("Ostype", "linux");
      hres.set(http::field::content_type, resp.content_type);
      for (auto& [k, v] : resp.headers) hres.set(k, v);
      if (req.method == "HEAD") {
        hres.content_length(resp.body.size());
      } else {
        hres.body() = std::move(resp.body);
        hres.prepare_payload();
      }
      hres.keep_alive(hreq.keep_alive());
      if (req.method == "HEAD") {
        http::response_serializer<http::string_body> sr{hres};
        http::write_header(sock, sr, ec);
      } else {
        http::write(sock, hres, ec);
      }
      if (ec || !hreq.keep_alive()) return;
    }
  }
};

Server::Server(const Router& router, const std::string& socket_path, mode_t mode)
    : impl_(std::make_unique<Impl>(router, socket_path)) {
  ::unlink(socket_path.c_str());
  boost::system::error_code ec;
  impl_->acceptor.open(unix_socket(), ec);
  if (!ec) impl_->acceptor.bind(unix_socket::endpoint(socket_path), ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw Error("listen on " + socket_path + ": " + ec.message());
  if (::chmod(socket_path.c_str(), mode) < 0) throw_errno("chmod " + socket_path);
}

Server::~Server() { ::unlink(impl_->path.c_str()); }

void Server::run() {
  for (;;) {
    boost::system::error_code ec;
    unix_socket::socket sock(impl_->ioc);
    impl_->acceptor.accept(sock, ec);
    if (ec) {
      if (!impl_->acceptor.is_open() || ec == asio::error::operation_aborted ||
          ec == asio::error::bad_descriptor)
        return;
      log::warn("accept on " + impl_->path + ": " + ec.message());
      continue;
    }
    std::thread([this, s = std::move(sock)]() mutable { impl_->serve(std::move(s)); }).detach();
  }
}

void Server::stop() {
  // shutdown() wakes the blocked accept(); close() alone may not.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace berth::api
