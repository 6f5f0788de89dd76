#include "api/server.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/crash_log.h"
#include "base/error.h"
#include "base/log.h"
#include "base/memory.h"

namespace berth::api {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using unix_socket = asio::local::stream_protocol;

namespace {

constexpr size_t kHeaderLimit = 1 << 20;
constexpr int kMaxConnections = 4096;
constexpr std::chrono::milliseconds kIdleTimeout = std::chrono::minutes(5);
constexpr std::chrono::milliseconds kReadTimeout = std::chrono::seconds(60);
// How long a thread whose connection ended waits for the next one before it ends too.
constexpr std::chrono::seconds kParkTime{30};

bool wait_readable(unix_socket::socket& sock, std::chrono::milliseconds timeout) {
  pollfd p{sock.native_handle(), POLLIN, 0};
  int ready;
  do {
    ready = ::poll(&p, 1, static_cast<int>(timeout.count()));
  } while (ready < 0 && errno == EINTR);
  return ready > 0;
}

// The connection's socket as Beast reads a request from it, with a time limit on each read
// (SO_RCVTIMEO would not do: Asio answers its EAGAIN by polling without a limit).
struct TimedReads {
  unix_socket::socket& sock;
  std::chrono::milliseconds timeout;

  using executor_type = unix_socket::socket::executor_type;
  executor_type get_executor() { return sock.get_executor(); }

  template <class Buffers>
  size_t read_some(const Buffers& buffers, boost::system::error_code& ec) {
    if (!wait_readable(sock, timeout)) {
      ec = asio::error::timed_out;
      return 0;
    }
    return sock.read_some(buffers, ec);
  }
  template <class Buffers>
  size_t read_some(const Buffers& buffers) {
    boost::system::error_code ec;
    size_t n = read_some(buffers, ec);
    if (ec) throw boost::system::system_error(ec);
    return n;
  }
};

}  // namespace

struct Server::Impl {
  const Router& router;
  std::string path;
  asio::io_context ioc;
  unix_socket::acceptor acceptor{ioc};
  // Connections open now, and whether any was served since memory was last released.
  std::atomic<int> active{0};
  std::atomic<bool> served{false};
  // Threads whose connection ended wait here for the next: making a thread for each fresh
  // connection was most of its cost (a clone, a stack and a signal stack to map).
  std::mutex park_mu;
  std::condition_variable park_cv;
  std::deque<unix_socket::socket> handed;
  size_t parked = 0;
  bool closing = false;

  // Gives `sock` to a parked thread; false when none waits.
  bool hand_over(unix_socket::socket& sock) {
    std::lock_guard lk(park_mu);
    if (parked <= handed.size()) return false;
    handed.push_back(std::move(sock));
    park_cv.notify_one();
    return true;
  }

  void work(unix_socket::socket sock) {
    give_thread_crash_stack();
    for (;;) {
      try {
        serve(std::move(sock));
      } catch (const std::exception& e) {
        // Whatever one client sent, it ends only its own connection.
        log::warn(std::string("API connection: ") + e.what());
      }
      --active;
      std::unique_lock lk(park_mu);
      ++parked;
      park_cv.wait_for(lk, kParkTime, [&] { return !handed.empty() || closing; });
      --parked;
      if (handed.empty()) {
        park_cv.notify_all();  // ~Server may wait for the last one to go
        return;
      }
      sock = std::move(handed.front());
      handed.pop_front();
    }
  }

  Impl(const Router& r, std::string p) : router(r), path(std::move(p)) {}

  void serve(unix_socket::socket sock) {
    boost::beast::flat_buffer buf;
    // Beast reads at most what the buffer holds free (512 bytes at first): a large buffer
    // turns a load of hundreds of megabytes into 64 KiB reads instead of 512-byte ones.
    buf.reserve(1 << 18);
    boost::system::error_code ec;
    for (;;) {
      // A kept-alive connection may wait long for its next request; once one begins, its
      // header and body must keep coming (a client that stalls mid-request is let go).
      if (buf.size() == 0 && !wait_readable(sock, kIdleTimeout)) return;
      http::request_parser<http::empty_body> head;
      head.header_limit(kHeaderLimit);
      head.body_limit(std::numeric_limits<std::uint64_t>::max());
      TimedReads in{sock, kReadTimeout};
      try {
        http::read_header(in, buf, head, ec);
      } catch (const std::length_error&) {
        // Beast keeps each field in at most 64 KiB, below the 1 MiB for all of them.
        ec = http::error::header_limit;
      }
      if (ec == http::error::header_limit) {
        // As dockerd (Go's 1 MiB limit): a status the client can show, then the end.
        send_error(sock, 431, "request header fields too large");
        return;
      }
      if (ec) {
        if (ec != http::error::end_of_stream) log::debug("API connection: " + ec.message());
        return;  // closed, stalled, or garbage that is not HTTP
      }
      // The body is read only when and as the route wants it: a load streams hundreds of
      // megabytes straight into the content store.
      http::request_parser<http::buffer_body> body_parser{std::move(head)};
      body_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      auto& hreq = body_parser.get();
      Request req;
      req.method = std::string(hreq.method_string());
      req.path = std::string(hreq.target());
      for (auto& f : hreq) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        req.headers[name] = std::string(f.value());
      }
      BodyReader reader = [&](char* out, size_t len) -> size_t {
        while (!body_parser.is_done()) {
          body_parser.get().body().data = out;
          body_parser.get().body().size = len;
          boost::system::error_code rec;
          http::read(in, buf, body_parser, rec);
          if (rec && rec != http::error::need_buffer)
            throw Error("read request body: " + rec.message());
          size_t n = len - body_parser.get().body().size;
          if (n > 0) return n;
        }
        return 0;
      };
      bool keep_alive = hreq.keep_alive();
      unsigned version = hreq.version();
      std::string what = req.method + " " + req.path;
      bool upgrade = hreq.count(http::field::upgrade) > 0;
      Response resp = router.handle(std::move(req), reader);
      log::debug("API " + what + " -> " + std::to_string(resp.status));
      // A route that refused a request before reading its upload (a bad import --change)
      // still reads it: a client that is still sending would see a broken pipe instead of
      // the error. The connection then stays usable too.
      if (!body_parser.is_done()) {
        try {
          char sink[65536];
          while (reader(sink, sizeof sink) > 0) {
          }
        } catch (const std::exception&) {
          keep_alive = false;
        }
      }
      if (resp.hijack) {
        hand_over(sock, resp, upgrade, buf.size());
        return;
      }
      if (!send(sock, resp, version, keep_alive, hreq.method() == http::verb::head)) return;
      if (!keep_alive) return;
    }
  }

  static void send_error(unix_socket::socket& sock, int status, const std::string& message) {
    Response resp = error_response(status, message);
    send(sock, resp, 11, false, false);
  }

  static void hand_over(unix_socket::socket& sock, Response& resp, bool upgrade, size_t buffered) {
    std::string head = upgrade ? "HTTP/1.1 101 UPGRADED\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
                               : "HTTP/1.1 200 OK\r\n";
    head += "Content-Type: " + resp.content_type + "\r\nApi-Version: " + kApiVersion + "\r\n\r\n";
    // The docker CLI sends nothing before the upgrade is answered; bytes that came early
    // cannot be handed over with the descriptor.
    if (buffered) log::warn("hijacked connection had " + std::to_string(buffered) + " early bytes");
    UniqueFd fd(::fcntl(sock.native_handle(), F_DUPFD_CLOEXEC, 0));
    if (!fd) {
      log::warn(std::string("hijack: dup: ") + std::strerror(errno));
      return;
    }
    bool sent = false;
    auto send_header = [&] {
      if (sent) return;
      sent = true;
      boost::system::error_code ec;
      asio::write(sock, asio::buffer(head), ec);
    };
    try {
      resp.hijack(std::move(fd), send_header);
    } catch (const std::exception& e) {
      log::warn(std::string("hijacked stream: ") + e.what());
    }
    send_header();
  }

  static bool send(unix_socket::socket& sock, Response& resp, unsigned version, bool keep_alive,
                   bool head_only) {
    boost::system::error_code ec;
    auto headers = [&](auto& hres) {
      hres.set(http::field::server, std::string("berth/") + BERTH_VERSION + " (linux)");
      hres.set("Api-Version", kApiVersion);
      hres.set("Docker-Experimental", "false");
      hres.set("Ostype", "linux");
      hres.set(http::field::content_type, resp.content_type);
      for (auto& [k, v] : resp.headers) hres.set(k, v);
      hres.keep_alive(keep_alive);
    };
    if (resp.stream && !head_only) {
      http::response<http::empty_body> hres{static_cast<http::status>(resp.status), version};
      headers(hres);
      hres.chunked(true);
      http::response_serializer<http::empty_body> sr{hres};
      http::write_header(sock, sr, ec);
      if (ec) return false;
      bool alive = true;
      resp.stream([&](std::string_view data) {
        if (!alive) return false;
        if (data.empty()) {
          // A probe: a long stream with nothing to say still notices a client that left.
          pollfd p{sock.native_handle(), POLLRDHUP, 0};
          if (::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR))) alive = false;
          return alive;
        }
        asio::write(sock, http::make_chunk(asio::const_buffer(data.data(), data.size())), ec);
        alive = !ec;
        return alive;
      });
      if (!alive) return false;
      asio::write(sock, http::make_chunk_last(), ec);
      return !ec;
    }
    http::response<http::string_body> hres{static_cast<http::status>(resp.status), version};
    headers(hres);
    if (head_only) {
      hres.content_length(resp.body.size());
      http::response_serializer<http::string_body> sr{hres};
      http::write_header(sock, sr, ec);
    } else {
      hres.body() = std::move(resp.body);
      hres.prepare_payload();
      http::write(sock, hres, ec);
    }
    return !ec;
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

Server::~Server() {
  ::unlink(impl_->path.c_str());
  std::unique_lock lk(impl_->park_mu);
  impl_->closing = true;
  impl_->park_cv.notify_all();
  impl_->park_cv.wait(lk, [&] { return impl_->parked == 0; });
}

void Server::run() {
  for (;;) {
    if (!wait_idle()) continue;
    boost::system::error_code ec;
    unix_socket::socket sock(impl_->ioc);
    impl_->acceptor.accept(sock, ec);
    if (ec) {
      // stop() shuts the listener down before it closes it: EINVAL means the same.
      if (!impl_->acceptor.is_open() || ec == asio::error::operation_aborted ||
          ec == asio::error::bad_descriptor || ec == asio::error::invalid_argument)
        return;
      log::warn("accept on " + impl_->path + ": " + ec.message());
      continue;
    }
    if (impl_->active >= kMaxConnections) {
      // Each connection is a thread: past the limit a client is told, not queued forever.
      Impl::send_error(sock, 503,
                       "too many connections to berthd (" + std::to_string(kMaxConnections) +
                           " open); try again");
      continue;
    }
    ++impl_->active;
    impl_->served = true;
    if (impl_->hand_over(sock)) continue;
    std::thread([this, s = std::move(sock)]() mutable { impl_->work(std::move(s)); }).detach();
  }
}

bool Server::wait_idle() {
  // Work (an import, a load, a burst of starts) pulls in code and grows the heap; a daemon
  // that then sits idle hands that memory back, as it did after start-up.
  constexpr auto kIdle = std::chrono::seconds(2);
  if (!impl_->served) return true;
  pollfd p{impl_->acceptor.native_handle(), POLLIN, 0};
  int ready = ::poll(&p, 1, static_cast<int>(std::chrono::milliseconds(kIdle).count()));
  if (ready != 0) return true;
  if (impl_->active == 0 && impl_->served.exchange(false)) release_startup_memory(true);
  return false;
}

void Server::stop() {
  // shutdown() wakes the blocked accept(); close() alone may not.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace berth::api
