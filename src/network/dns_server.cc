#include "network/dns_server.h"

#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <chrono>
#include <deque>
#include <future>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <thread>
#include <unordered_set>
#include <utility>  // before asio: Boost 1.74 uses std::exchange without including it

#include "base/error.h"
#include "base/log.h"
#include "network/dns_message.h"

namespace berth::network {

namespace asio = boost::asio;
using asio::ip::tcp;
using asio::ip::udp;
using boost::system::error_code;

namespace {

constexpr auto kUpstreamTimeout = std::chrono::seconds(2);
// Bounds what slow or idle TCP clients hold on to.
constexpr auto kTcpIdleTimeout = std::chrono::seconds(10);
constexpr size_t kMaxTcpSessions = 100;  // per listener
// Bounds the memory and sockets forwarded queries take while upstreams are slow.
constexpr int kMaxForwards = 100;

// Sends an answer back to whoever asked, over the transport the question came on.
using Respond = std::function<void(std::vector<uint8_t>)>;

// Lets the socket bind to a bridge address that is still being set up.
void set_freebind(int fd) {
  int one = 1;
  if (::setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof one) != 0) {
    throw_errno("setsockopt IP_FREEBIND");
  }
}

std::optional<udp::endpoint> parse_upstream(const std::string& text) {
  std::string_view host = text;
  uint16_t port = 53;
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    std::string_view p = host.substr(colon + 1);
    auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), port);
    if (ec != std::errc() || end != p.data() + p.size() || port == 0) return std::nullopt;
    host = host.substr(0, colon);
  }
  auto ip = Ipv4::try_parse(host);
  if (!ip) return std::nullopt;
  return udp::endpoint(asio::ip::address_v4(ip->value), port);
}

std::vector<udp::endpoint> parse_upstreams(const std::vector<std::string>& texts) {
  std::vector<udp::endpoint> out;
  for (const auto& text : texts) {
    if (auto ep = parse_upstream(text)) {
      out.push_back(*ep);
    } else {
      log::warn("DNS: ignoring upstream resolver " + text + ": not an IPv4 address[:port]");
    }
  }
  return out;
}

}  // namespace

struct DnsServer::Impl {
  struct Listener;
  struct TcpSession;
  struct Forward;

  Impl(Lookup lookup, ReverseLookup reverse_lookup)
      : lookup(std::move(lookup)), reverse_lookup(std::move(reverse_lookup)) {}
  ~Impl();

  // Runs `f` on the io thread and waits for it, passing on what it throws.
  template <typename F>
  void run(F f) {
    std::packaged_task<void()> task(std::move(f));
    auto done = task.get_future();
    asio::dispatch(io, std::move(task));
    done.get();
  }

  void listen(Ipv4 addr, uint16_t port);
  void set_upstreams(const std::vector<std::string>& texts);
  void handle(std::span<const uint8_t> packet, Ipv4 local, Ipv4 client, bool over_tcp,
              Respond respond);

  Lookup lookup;
  ReverseLookup reverse_lookup;
  // Declared before `io` because forwards destroyed with io's pending handlers count down.
  int forwards = 0;
  asio::io_context io;
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  std::map<Ipv4, std::shared_ptr<Listener>> listeners;
  std::vector<udp::endpoint> upstreams;
  size_t rotation = 0;
  // Upstream ids are random, so that an off-path host must guess them to spoof an answer.
  std::mt19937 random{std::random_device{}()};
  std::thread thread;
};

struct DnsServer::Impl::Listener : std::enable_shared_from_this<Listener> {
  Listener(Impl& impl, Ipv4 addr)
      : impl(impl), addr(addr), udp_socket(impl.io), acceptor(impl.io) {}

  void receive() {
    udp_socket.async_receive_from(
        asio::buffer(buf), from, [self = shared_from_this()](error_code ec, size_t n) {
          if (!self->udp_socket.is_open()) return;
          if (!ec) {
            auto respond = [self, to = self->from](std::vector<uint8_t> answer) {
              self->send_to(to, std::move(answer));
            };
            self->impl.handle({self->buf.data(), n}, self->addr,
                              Ipv4{self->from.address().to_v4().to_uint()}, false, respond);
          }
          self->receive();
        });
  }

  void send_to(const udp::endpoint& to, std::vector<uint8_t> answer) {
    auto data = std::make_shared<std::vector<uint8_t>>(std::move(answer));
    udp_socket.async_send_to(asio::buffer(*data), to, [data](error_code, size_t) {});
  }

  void accept();
  void close();

  Impl& impl;
  Ipv4 addr;
  udp::socket udp_socket;
  tcp::acceptor acceptor;
  std::array<uint8_t, dns::kMaxTcpSize> buf;
  udp::endpoint from;
  std::unordered_set<TcpSession*> sessions;
};

struct DnsServer::Impl::TcpSession : std::enable_shared_from_this<TcpSession> {
  TcpSession(std::shared_ptr<Listener> listener, tcp::socket socket)
      : listener(std::move(listener)), socket(std::move(socket)), idle(this->listener->impl.io) {
    this->listener->sessions.insert(this);
  }
  ~TcpSession() { listener->sessions.erase(this); }

  void read_length() {
    idle.expires_after(kTcpIdleTimeout);
    idle.async_wait([self = shared_from_this()](error_code ec) {
      if (!ec) self->close();
    });
    asio::async_read(socket, asio::buffer(length),
                     [self = shared_from_this()](error_code ec, size_t) {
                       // On end of file the session lives on until the answers still being worked
                       // out are sent.
                       if (ec) {
                         self->idle.cancel();
                         return;
                       }
                       self->message.resize(self->length[0] << 8 | self->length[1]);
                       self->read_message();
                     });
  }

  void read_message() {
    asio::async_read(
        socket, asio::buffer(message), [self = shared_from_this()](error_code ec, size_t) {
          if (ec) {
            self->idle.cancel();
            return;
          }
          auto respond = [self](std::vector<uint8_t> answer) { self->send(std::move(answer)); };
          error_code peer_ec;
          auto peer = self->socket.remote_endpoint(peer_ec);
          Ipv4 client{peer_ec ? 0u : peer.address().to_v4().to_uint()};
          self->listener->impl.handle(self->message, self->listener->addr, client, true, respond);
          self->read_length();
        });
  }

  void send(std::vector<uint8_t> answer) {
    if (!socket.is_open()) return;
    uint16_t size = static_cast<uint16_t>(answer.size());
    answer.insert(answer.begin(), {static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)});
    outbox.push_back(std::move(answer));
    if (outbox.size() == 1) write_next();
  }

  void write_next() {
    asio::async_write(socket, asio::buffer(outbox.front()),
                      [self = shared_from_this()](error_code ec, size_t) {
                        if (ec) return self->close();
                        self->outbox.pop_front();
                        if (!self->outbox.empty()) self->write_next();
                      });
  }

  void close() {
    error_code ignored;
    socket.close(ignored);
    idle.cancel();
  }

  std::shared_ptr<Listener> listener;
  tcp::socket socket;
  asio::steady_timer idle;
  std::array<uint8_t, 2> length{};
  std::vector<uint8_t> message;
  std::deque<std::vector<uint8_t>> outbox;  // async_write must not overlap on one socket
};

void DnsServer::Impl::Listener::accept() {
  acceptor.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (!self->acceptor.is_open()) return;
    if (!ec && self->sessions.size() < kMaxTcpSessions) {
      std::make_shared<TcpSession>(self, std::move(socket))->read_length();
    }
    self->accept();
  });
}

void DnsServer::Impl::Listener::close() {
  error_code ignored;
  udp_socket.close(ignored);
  acceptor.close(ignored);
  for (TcpSession* s : sessions) s->close();
}

// One forwarded query: tries the upstreams in turn until one answers. Handlers of an attempt
// that has been given up carry a stale `attempt` and do nothing.
struct DnsServer::Impl::Forward : std::enable_shared_from_this<Forward> {
  Forward(Impl& impl, dns::Query query, std::span<const uint8_t> packet, bool over_tcp,
          Respond respond, std::vector<udp::endpoint> upstreams)
      : impl(impl),
        query(std::move(query)),
        packet(packet.begin(), packet.end()),
        upstream_id(static_cast<uint16_t>(impl.random())),
        over_tcp(over_tcp),
        respond(std::move(respond)),
        upstreams(std::move(upstreams)),
        timer(impl.io) {
    dns::set_id(this->packet, upstream_id);
    ++impl.forwards;
  }
  ~Forward() { --impl.forwards; }

  void try_next() {
    close_sockets();
    if (next == upstreams.size()) return finish(dns::reply(query, dns::Rcode::kServFail, false));
    udp::endpoint to = upstreams[next++];
    ++attempt;
    timer.expires_after(kUpstreamTimeout);
    timer.async_wait([self = shared_from_this(), a = attempt](error_code ec) {
      if (!ec && a == self->attempt) self->try_next();
    });
    over_tcp ? ask_tcp(tcp::endpoint(to.address(), to.port())) : ask_udp(to);
  }

  void ask_udp(const udp::endpoint& to) {
    error_code ec;
    udp_socket.emplace(impl.io);
    udp_socket->open(udp::v4(), ec);
    // Connected, so the kernel drops datagrams from anyone but the upstream and reports its
    // refusals (ICMP port unreachable), which moves on to the next one at once.
    if (!ec) udp_socket->connect(to, ec);
    if (ec) return try_next();
    udp_socket->async_send(asio::buffer(packet),
                           [self = shared_from_this(), a = attempt](error_code ec, size_t) {
                             if (ec && a == self->attempt) self->try_next();
                           });
    receive_udp();
  }

  void receive_udp() {
    answer.resize(dns::kMaxTcpSize);
    udp_socket->async_receive(asio::buffer(answer),
                              [self = shared_from_this(), a = attempt](error_code ec, size_t n) {
                                if (a != self->attempt) return;
                                if (ec) return self->try_next();
                                self->answer.resize(n);
                                if (!dns::is_response(self->answer, self->upstream_id))
                                  return self->receive_udp();
                                self->finish(std::move(self->answer));
                              });
  }

  void ask_tcp(const tcp::endpoint& to) {
    tcp_socket.emplace(impl.io);
    if (frame.empty()) {
      uint16_t size = static_cast<uint16_t>(packet.size());
      frame = {static_cast<uint8_t>(size >> 8), static_cast<uint8_t>(size)};
      frame.insert(frame.end(), packet.begin(), packet.end());
    }
    tcp_socket->async_connect(to, [self = shared_from_this(), a = attempt](error_code ec) {
      if (a != self->attempt) return;
      if (ec) return self->try_next();
      asio::async_write(*self->tcp_socket, asio::buffer(self->frame),
                        [self, a](error_code ec, size_t) {
                          if (a != self->attempt) return;
                          if (ec) return self->try_next();
                          self->read_tcp_length();
                        });
    });
  }

  void read_tcp_length() {
    asio::async_read(*tcp_socket, asio::buffer(length),
                     [self = shared_from_this(), a = attempt](error_code ec, size_t) {
                       if (a != self->attempt) return;
                       if (ec) return self->try_next();
                       self->answer.resize(self->length[0] << 8 | self->length[1]);
                       self->read_tcp_answer();
                     });
  }

  void read_tcp_answer() {
    asio::async_read(*tcp_socket, asio::buffer(answer),
                     [self = shared_from_this(), a = attempt](error_code ec, size_t) {
                       if (a != self->attempt) return;
                       if (ec || !dns::is_response(self->answer, self->upstream_id)) {
                         return self->try_next();
                       }
                       self->finish(std::move(self->answer));
                     });
  }

  void finish(std::vector<uint8_t> reply) {
    ++attempt;
    close_sockets();
    timer.cancel();
    dns::set_id(reply, query.id);
    respond(std::move(reply));
  }

  void close_sockets() {
    error_code ignored;
    if (udp_socket) udp_socket->close(ignored);
    if (tcp_socket) tcp_socket->close(ignored);
  }

  Impl& impl;
  dns::Query query;
  std::vector<uint8_t> packet;  // the client's query with upstream_id
  std::vector<uint8_t> frame;   // the packet with TCP's length prefix
  uint16_t upstream_id;
  bool over_tcp;
  Respond respond;
  std::vector<udp::endpoint> upstreams;
  size_t next = 0;
  unsigned attempt = 0;
  asio::steady_timer timer;
  std::optional<udp::socket> udp_socket;
  std::optional<tcp::socket> tcp_socket;
  std::array<uint8_t, 2> length{};
  std::vector<uint8_t> answer;
};

DnsServer::Impl::~Impl() {
  if (!thread.joinable()) return;
  run([this] {
    for (auto& [addr, listener] : listeners) listener->close();
    listeners.clear();
  });
  work.reset();
  io.stop();
  thread.join();
}

void DnsServer::Impl::listen(Ipv4 addr, uint16_t port) {
  if (listeners.contains(addr)) return;
  auto l = std::make_shared<Listener>(*this, addr);
  auto ip = asio::ip::address_v4(addr.value);
  try {
    l->udp_socket.open(udp::v4());
    set_freebind(l->udp_socket.native_handle());
    l->udp_socket.bind(udp::endpoint(ip, port));
    l->acceptor.open(tcp::v4());
    l->acceptor.set_option(tcp::acceptor::reuse_address(true));
    set_freebind(l->acceptor.native_handle());
    l->acceptor.bind(tcp::endpoint(ip, port));
    l->acceptor.listen();
  } catch (const std::exception& e) {
    rethrow_with_context(e, "DNS server on " + addr.str() + ":" + std::to_string(port));
  }
  l->receive();
  l->accept();
  listeners.emplace(addr, std::move(l));
}

void DnsServer::Impl::set_upstreams(const std::vector<std::string>& texts) {
  upstreams = parse_upstreams(texts);
}

void DnsServer::Impl::handle(std::span<const uint8_t> packet, Ipv4 local, Ipv4 client,
                             bool over_tcp, Respond respond) {
  auto parsed = dns::parse_query(packet);
  if (std::holds_alternative<dns::Drop>(parsed)) return;
  if (auto* rcode = std::get_if<dns::Rcode>(&parsed)) {
    return respond(dns::error_reply(packet, *rcode));
  }
  auto& query = std::get<dns::Query>(parsed);
  bool local_question = query.qclass == dns::kClassIn && !query.name.empty();
  // Only PTR questions are reverse lookups (as in Docker): other types of an in-addr.arpa
  // name go through the names, find none and are forwarded.
  auto reverse = local_question && query.type == dns::kTypePtr ? dns::reverse_address(query.name)
                                                               : std::nullopt;
  Answer found;
  try {
    found = reverse ? reverse_lookup(local, client, *reverse) : lookup(local, client, query.name);
  } catch (const std::exception& e) {
    log::warn("DNS: looking up " + query.name + ": " + e.what());
    return respond(dns::reply(query, dns::Rcode::kServFail, false));
  }
  if (found.refused) return respond(dns::reply(query, dns::Rcode::kRefused, false));
  if (local_question) {
    if (reverse && !found.ptr_name.empty()) {
      auto answer = dns::ptr_reply(query, found.ptr_name);
      if (answer) return respond(std::move(*answer));
      log::warn("DNS: " + query.name + " points to " + found.ptr_name + ", not a valid DNS name");
      return respond(dns::reply(query, dns::Rcode::kServFail, false));
    }
    auto& addresses = found.addresses;
    if (!addresses.empty()) {
      // Rotated for every question, so that clients spread over the containers of a name.
      std::rotate(addresses.begin(), addresses.begin() + rotation++ % addresses.size(),
                  addresses.end());
      // Other types of a local name have no records, but the name exists.
      if (query.type != dns::kTypeA) addresses.clear();
      size_t max_size = over_tcp ? dns::kMaxTcpSize : dns::kMaxUdpSize;
      return respond(dns::reply(query, dns::Rcode::kNoError, true, addresses, max_size));
    }
  }
  if (forwards >= kMaxForwards) return respond(dns::reply(query, dns::Rcode::kServFail, false));
  auto to = found.upstreams.empty() ? upstreams : parse_upstreams(found.upstreams);
  std::make_shared<Forward>(*this, std::move(query), packet, over_tcp, std::move(respond),
                            std::move(to))
      ->try_next();
}

DnsServer::DnsServer(Lookup lookup, ReverseLookup reverse_lookup,
                     std::vector<std::string> upstreams)
    : impl_(std::make_unique<Impl>(std::move(lookup), std::move(reverse_lookup))) {
  impl_->set_upstreams(upstreams);
  impl_->thread = std::thread([impl = impl_.get()] {
    for (;;) {
      try {
        impl->io.run();
        return;
      } catch (const std::exception& e) {
        log::error(std::string("DNS server: ") + e.what());
      }
    }
  });
}

DnsServer::~DnsServer() = default;

void DnsServer::listen(Ipv4 addr, uint16_t port) {
  impl_->run([this, addr, port] { impl_->listen(addr, port); });
}

void DnsServer::stop_listening(Ipv4 addr) {
  impl_->run([this, addr] {
    auto it = impl_->listeners.find(addr);
    if (it == impl_->listeners.end()) return;
    it->second->close();
    impl_->listeners.erase(it);
  });
}

void DnsServer::set_upstreams(std::vector<std::string> upstreams) {
  impl_->run([this, &upstreams] { impl_->set_upstreams(upstreams); });
}

std::vector<std::string> nameservers_of(const std::string& resolv_conf) {
  std::vector<std::string> out;
  std::istringstream lines(resolv_conf);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string keyword, address;
    // IPv6 resolvers are left out until berth's networks carry IPv6.
    if (words >> keyword >> address && keyword == "nameserver" && Ipv4::try_parse(address)) {
      out.push_back(address);
    }
  }
  return out;
}

}  // namespace berth::network
