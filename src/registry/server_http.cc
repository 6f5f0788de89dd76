#include "registry/server_http.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/v6_only.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <limits>
#include <mutex>
#include <set>
#include <thread>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/error.h"
#include "base/log.h"
#include "registry/server_error.h"

namespace berth::registry {

namespace asio = boost::asio;
namespace http = boost::beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;

namespace {

// A client that sends nothing for this long has its connection closed, so abandoned
// connections do not keep their threads forever.
constexpr int kIdleSeconds = 300;

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string percent_decode(std::string_view s, bool plus_is_space) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else if (s[i] == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

void parse_target(std::string_view target, HttpRequest& req) {
  auto qpos = target.find('?');
  req.path = percent_decode(target.substr(0, qpos), false);
  if (qpos == std::string_view::npos) return;
  std::string_view rest = target.substr(qpos + 1);
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    if (pair.empty()) continue;
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq), true);
    std::string value =
        eq == std::string_view::npos ? "" : percent_decode(pair.substr(eq + 1), true);
    req.query.emplace(std::move(key), std::move(value));
  }
}

tcp::endpoint parse_addr(const std::string& addr) {
  auto colon = addr.rfind(':');
  if (colon == std::string::npos) throw InvalidArgument("http.addr " + addr + ": no port");
  std::string host = addr.substr(0, colon);
  int port = 0;
  try {
    size_t used = 0;
    port = std::stoi(addr.substr(colon + 1), &used);
    if (used != addr.size() - colon - 1 || port < 0 || port > 65535) throw std::exception();
  } catch (const std::exception&) {
    throw InvalidArgument("http.addr " + addr + ": bad port");
  }
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (host.empty()) return tcp::endpoint(tcp::v6(), static_cast<uint16_t>(port));
  if (host == "localhost") host = "127.0.0.1";
  boost::system::error_code ec;
  auto address = asio::ip::make_address(host, ec);
  if (ec) throw InvalidArgument("http.addr " + addr + ": not an IP address");
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::string remote_of(tcp::socket& s) {
  boost::system::error_code ec;
  auto ep = s.remote_endpoint(ec);
  if (ec) return "-";
  auto a = ep.address();
  if (a.is_v6() && a.to_v6().is_v4_mapped()) a = a.to_v6().to_v4();
  return a.to_string();
}

std::string timestamp() {
  char buf[64];
  std::time_t now = std::time(nullptr);
  std::tm tm;
  ::gmtime_r(&now, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Sends `len` bytes of `fd` from `offset`: sendfile on a plain socket, reads and writes
// through TLS.
bool send_file(tcp::socket& sock, int fd, uint64_t offset, uint64_t len) {
  off_t off = static_cast<off_t>(offset);
  while (len > 0) {
    ssize_t n = ::sendfile(sock.native_handle(), fd, &off, std::min<uint64_t>(len, 1 << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      pollfd p{sock.native_handle(), POLLOUT, 0};
      if (::poll(&p, 1, kIdleSeconds * 1000) <= 0) return false;
      continue;
    }
    if (n <= 0) return false;
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

bool send_file(ssl::stream<tcp::socket>& stream, int fd, uint64_t offset, uint64_t len) {
  std::vector<char> buf(1 << 18);
  while (len > 0) {
    ssize_t n =
        ::pread(fd, buf.data(), std::min<uint64_t>(len, buf.size()), static_cast<off_t>(offset));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    boost::system::error_code ec;
    asio::write(stream, asio::buffer(buf.data(), static_cast<size_t>(n)), ec);
    if (ec) return false;
    offset += static_cast<uint64_t>(n);
    len -= static_cast<uint64_t>(n);
  }
  return true;
}

}  // namespace

std::string HttpRequest::q(const std::string& name) const {
  auto [b, e] = query.equal_range(name);
  std::string v;
  for (auto it = b; it != e; ++it) v = it->second;
  return v;
}

std::string HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

struct HttpServer::Impl {
  HttpHandler handler;
  std::vector<std::pair<std::string, std::string>> extra_headers;
  bool access_log;
  RequestObserver observer;
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc};
  std::unique_ptr<ssl::context> tls;
  tcp protocol = tcp::v4();

  // Open connections, so that stop() can end them and wait for their threads.
  std::mutex mu;
  std::condition_variable idle;
  std::set<int> open;
  bool stopping = false;

  template <class Stream>
  void serve(Stream& stream, const std::string& remote) {
    boost::beast::flat_buffer buf;
    buf.reserve(1 << 16);
    for (;;) {
      http::request_parser<http::empty_body> head;
      head.header_limit(64 * 1024);
      // The body's size is the route's business (a layer has no limit, a manifest has).
      head.body_limit(std::numeric_limits<std::uint64_t>::max());
      boost::system::error_code ec;
      http::read_header(stream, buf, head, ec);
      if (ec) return;  // closed, timed out, or not HTTP
      auto start = std::chrono::steady_clock::now();
      http::request_parser<http::buffer_body> body_parser{std::move(head)};
      body_parser.body_limit(std::numeric_limits<std::uint64_t>::max());
      auto& hreq = body_parser.get();
      HttpRequest req;
      req.method = std::string(hreq.method_string());
      std::string target(hreq.target());
      parse_target(target, req);
      for (auto& f : hreq) {
        std::string name(f.name_string());
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        auto [it, fresh] = req.headers.emplace(name, std::string(f.value()));
        if (!fresh) it->second += ", " + std::string(f.value());  // Accept may come in pieces
      }
      bool continue_sent = false;
      bool expects_continue = boost::beast::iequals(req.header("expect"), "100-continue");
      req.read_body = [&](char* out, size_t len) -> size_t {
        if (expects_continue && !continue_sent) {
          continue_sent = true;
          static const char kContinue[] = "HTTP/1.1 100 Continue\r\n\r\n";
          asio::write(stream, asio::buffer(kContinue, sizeof kContinue - 1));
        }
        while (!body_parser.is_done()) {
          body_parser.get().body().data = out;
          body_parser.get().body().size = len;
          boost::system::error_code rec;
          http::read(stream, buf, body_parser, rec);
          if (rec && rec != http::error::need_buffer)
            throw RegistryError(ErrorCode::kBlobUploadInvalid,
                                "reading the request body: " + rec.message());
          size_t n = len - body_parser.get().body().size;
          if (n > 0) return n;
        }
        return 0;
      };
      bool keep_alive = hreq.keep_alive();
      unsigned version = hreq.version();
      HttpResponse res;
      try {
        res = handler(req);
      } catch (const std::exception& e) {
        res = HttpResponse();
        res.status = 500;
        res.set("Content-Type", "application/json");
        res.body =
            nlohmann::json{{"errors", {{{"code", "UNKNOWN"}, {"message", e.what()}}}}}.dump();
        log::error(req.method + " " + req.path + ": " + e.what());
      }
      // A request refused before its body was read (a wrong password on a PATCH) still has
      // its body read, so the client sees the answer instead of a reset connection.
      if (!body_parser.is_done()) {
        try {
          char sink[65536];
          while (req.read_body(sink, sizeof sink) > 0) {
          }
        } catch (const std::exception&) {
          keep_alive = false;
        }
      }
      uint64_t length = res.file ? res.file_length : res.body.size();
      http::response<http::empty_body> hres{static_cast<http::status>(res.status), version};
      hres.set("Docker-Distribution-API-Version", "registry/2.0");
      for (auto& [k, v] : extra_headers) hres.insert(k, v);
      for (auto& [k, v] : res.headers) hres.insert(k, v);
      if (res.status != 204 && res.status >= 200) hres.content_length(length);
      hres.keep_alive(keep_alive);
      http::response_serializer<http::empty_body> sr{hres};
      http::write_header(stream, sr, ec);
      bool head_only = req.method == "HEAD" || res.status == 204;
      if (!ec && !head_only && length > 0) {
        if (res.file) {
          if (!send_file(stream, res.file.get(), res.file_offset, length)) keep_alive = false;
        } else {
          asio::write(stream, asio::buffer(res.body), ec);
        }
      }
      uint64_t sent = head_only ? 0 : length;
      if (access_log) log_request(remote, req, target, version, res.status, sent, start);
      if (observer)
        observer(req.method, res.status, sent,
                 std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
      if (ec || !keep_alive) return;
    }
  }

  void log_request(const std::string& remote, const HttpRequest& req, const std::string& target,
                   unsigned version, int status, uint64_t bytes,
                   std::chrono::steady_clock::time_point start) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(
                  std::chrono::steady_clock::now() - start)
                  .count();
    std::string line = remote + " - " + (req.user.empty() ? "-" : req.user) + " [" + timestamp() +
                       "] \"" + req.method + " " + target + " HTTP/" +
                       std::to_string(version / 10) + "." + std::to_string(version % 10) + "\" " +
                       std::to_string(status) + " " + std::to_string(bytes) + " " +
                       std::to_string(us / 1000) + "." + std::to_string(us % 1000 / 100) + "ms \"" +
                       req.header("user-agent") + "\"\n";
    // One write per line, so that lines from concurrent connections never interleave.
    ssize_t ignored = ::write(2, line.data(), line.size());
    (void)ignored;
  }

  // Forgets a connection while its socket is still open, so that its descriptor number
  // cannot be reused by a new connection before it leaves the set.
  struct Untrack {
    Impl* impl;
    int fd;
    ~Untrack() {
      std::lock_guard lock(impl->mu);
      impl->open.erase(fd);
      impl->idle.notify_all();
    }
  };

  // Runs on the connection's own thread with its own io_context: nothing of it outlives
  // stop(), which returns once every connection has left the set.
  void connection(int fd) {
    asio::io_context local;
    tcp::socket sock(local);
    boost::system::error_code ec;
    sock.assign(protocol, fd, ec);
    std::string remote = remote_of(sock);
    timeval tv{kIdleSeconds, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    try {
      if (tls) {
        ssl::stream<tcp::socket> stream(std::move(sock), *tls);
        Untrack untrack{this, fd};
        stream.handshake(ssl::stream_base::server, ec);
        if (ec) {
          log::debug("TLS handshake with " + remote + ": " + ec.message());
        } else {
          serve(stream, remote);
          stream.shutdown(ec);
        }
      } else {
        Untrack untrack{this, fd};
        serve(sock, remote);
      }
    } catch (const std::exception& e) {
      log::debug("connection from " + remote + ": " + e.what());
    }
  }
};

HttpServer::HttpServer(const std::string& addr, HttpHandler handler, const TlsFiles& tls,
                       std::vector<std::pair<std::string, std::string>> extra_headers,
                       bool access_log)
    : impl_(std::make_unique<Impl>()) {
  impl_->handler = std::move(handler);
  impl_->extra_headers = std::move(extra_headers);
  impl_->access_log = access_log;
  if (!tls.certificate.empty() || !tls.key.empty()) {
    if (tls.certificate.empty() || tls.key.empty())
      throw InvalidArgument("http.tls needs both certificate and key");
    impl_->tls = std::make_unique<ssl::context>(ssl::context::tls_server);
    impl_->tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                            ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                            ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    impl_->tls->use_certificate_chain_file(tls.certificate, ec);
    if (ec) throw InvalidArgument("http.tls.certificate " + tls.certificate + ": " + ec.message());
    impl_->tls->use_private_key_file(tls.key, ssl::context::pem, ec);
    if (ec) throw InvalidArgument("http.tls.key " + tls.key + ": " + ec.message());
  }
  tcp::endpoint ep = parse_addr(addr);
  boost::system::error_code ec;
  impl_->protocol = ep.protocol();
  impl_->acceptor.open(ep.protocol(), ec);
  if (!ec && ep.protocol() == tcp::v6()) impl_->acceptor.set_option(asio::ip::v6_only(false), ec);
  if (!ec) impl_->acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) impl_->acceptor.bind(ep, ec);
  if (!ec) impl_->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw Unavailable("listen on " + addr + ": " + ec.message());
}

HttpServer::~HttpServer() {
  stop();
}

void HttpServer::observe(RequestObserver observer) {
  impl_->observer = std::move(observer);
}

uint16_t HttpServer::port() const {
  boost::system::error_code ec;
  return impl_->acceptor.local_endpoint(ec).port();
}

void HttpServer::run() {
  for (;;) {
    tcp::socket sock(impl_->ioc);
    boost::system::error_code ec;
    impl_->acceptor.accept(sock, ec);
    if (ec) {
      if (!impl_->acceptor.is_open() || ec == asio::error::operation_aborted ||
          ec == asio::error::bad_descriptor || ec == asio::error::invalid_argument)
        return;
      log::warn("accept: " + ec.message());
      continue;
    }
    {
      std::lock_guard lock(impl_->mu);
      if (impl_->stopping) return;
      int fd = sock.release(ec);
      if (ec) continue;
      impl_->open.insert(fd);
      std::thread([this, fd] { impl_->connection(fd); }).detach();
    }
  }
}

void HttpServer::stop() {
  std::unique_lock lock(impl_->mu);
  impl_->stopping = true;
  // shutdown() wakes the blocked accept() and every connection's read; close() alone may not.
  ::shutdown(impl_->acceptor.native_handle(), SHUT_RDWR);
  for (int fd : impl_->open) ::shutdown(fd, SHUT_RDWR);
  impl_->idle.wait(lock, [&] { return impl_->open.empty(); });
  lock.unlock();
  boost::system::error_code ec;
  impl_->acceptor.close(ec);
}

}  // namespace berth::registry
