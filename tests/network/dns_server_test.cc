// The embedded DNS server over real loopback sockets, with a fake upstream resolver.
#include "network/dns_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "base/fd.h"
#include "network/dns_message.h"

namespace berth::network {
namespace {

using Bytes = std::vector<uint8_t>;

const Ipv4 kLoopback = Ipv4::parse("127.0.0.1");

sockaddr_in sockaddr_of(Ipv4 ip, uint16_t port) {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_port = htons(port);
  sa.sin_addr.s_addr = ip.network_order();
  return sa;
}

// A socket of `type` bound to ip:port, or -1 when the port is taken.
int bound_socket(int type, Ipv4 ip, uint16_t port) {
  int fd = ::socket(AF_INET, type | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in sa = sockaddr_of(ip, port);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// A port above 20000 that is free for both UDP and TCP on 127.0.0.1 and 127.0.0.2.
uint16_t free_port() {
  static uint16_t next = static_cast<uint16_t>(20000 + ::getpid() % 20000);
  for (;; ++next) {
    uint16_t port = next;
    bool free = true;
    for (Ipv4 ip : {kLoopback, Ipv4::parse("127.0.0.2")}) {
      for (int type : {SOCK_DGRAM, SOCK_STREAM}) {
        int fd = bound_socket(type, ip, port);
        if (fd < 0) free = false;
        if (fd >= 0) ::close(fd);
      }
    }
    if (free) {
      ++next;
      return port;
    }
  }
}

void put16(Bytes& b, uint16_t v) {
  b.push_back(static_cast<uint8_t>(v >> 8));
  b.push_back(static_cast<uint8_t>(v));
}

uint16_t get16(const Bytes& b, size_t pos) {
  return static_cast<uint16_t>(b.at(pos) << 8 | b.at(pos + 1));
}

Bytes query(uint16_t id, const std::string& name, uint16_t type = dns::kTypeA) {
  Bytes b;
  put16(b, id);
  put16(b, dns::kFlagRd);
  put16(b, 1);
  put16(b, 0);
  put16(b, 0);
  put16(b, 0);
  size_t start = 0;
  while (start < name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    b.push_back(static_cast<uint8_t>(dot - start));
    b.insert(b.end(), name.begin() + start, name.begin() + dot);
    start = dot + 1;
  }
  b.push_back(0);
  put16(b, type);
  put16(b, dns::kClassIn);
  return b;
}

struct Answer {
  uint16_t id = 0;
  uint16_t flags = 0;
  int rcode() const { return flags & dns::kRcodeMask; }
  std::vector<std::string> addresses;  // of the A records
  std::vector<std::string> ptr_names;  // of the PTR records
};

// A name written without compression, as this server writes PTR targets.
std::string read_name(const Bytes& m, size_t pos) {
  std::string name;
  for (uint8_t len; (len = m.at(pos)) != 0; pos += len + 1) {
    EXPECT_LT(len, 64);
    if (!name.empty()) name += '.';
    name.append(m.begin() + pos + 1, m.begin() + pos + 1 + len);
  }
  return name;
}

// Reads the answer section, which this server and the fake upstream fill with A and PTR records
// whose names are pointers.
Answer parse(const Bytes& m) {
  Answer a;
  a.id = get16(m, 0);
  a.flags = get16(m, 2);
  uint16_t qd = get16(m, 4), an = get16(m, 6);
  size_t pos = 12;
  for (int i = 0; i < qd; ++i) {
    while (m.at(pos) != 0) pos += m.at(pos) + 1;
    pos += 5;
  }
  for (int i = 0; i < an; ++i) {
    EXPECT_EQ(m.at(pos) & 0xc0, 0xc0);
    pos += 2;
    uint16_t type = get16(m, pos), rdlen = get16(m, pos + 8);
    pos += 10;
    if (type == dns::kTypeA && rdlen == 4) {
      a.addresses.push_back(
          Ipv4{static_cast<uint32_t>(get16(m, pos)) << 16 | get16(m, pos + 2)}.str());
    }
    if (type == dns::kTypePtr) a.ptr_names.push_back(read_name(m, pos));
    pos += rdlen;
  }
  return a;
}

// Sends `packet` over UDP and waits up to `timeout` for one answer.
std::optional<Bytes> ask_udp(uint16_t port, const Bytes& packet, Ipv4 server = kLoopback,
                             std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  sockaddr_in sa = sockaddr_of(server, port);
  ::sendto(fd.get(), packet.data(), packet.size(), 0, reinterpret_cast<sockaddr*>(&sa), sizeof sa);
  pollfd p{fd.get(), POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return std::nullopt;
  Bytes buf(65535);
  ssize_t n = ::recv(fd.get(), buf.data(), buf.size(), 0);
  if (n < 0) return std::nullopt;
  buf.resize(n);
  return buf;
}

bool read_all(int fd, uint8_t* p, size_t n) {
  while (n > 0) {
    ssize_t r = ::read(fd, p, n);
    if (r <= 0) return false;
    p += r;
    n -= r;
  }
  return true;
}

int connect_tcp(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa = sockaddr_of(kLoopback, port);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::optional<Bytes> ask_tcp(uint16_t port, const Bytes& packet) {
  UniqueFd fd(connect_tcp(port));
  if (fd.get() < 0) return std::nullopt;
  Bytes framed;
  put16(framed, static_cast<uint16_t>(packet.size()));
  framed.insert(framed.end(), packet.begin(), packet.end());
  if (::write(fd.get(), framed.data(), framed.size()) != static_cast<ssize_t>(framed.size())) {
    return std::nullopt;
  }
  uint8_t len[2];
  if (!read_all(fd.get(), len, 2)) return std::nullopt;
  Bytes answer(len[0] << 8 | len[1]);
  if (!read_all(fd.get(), answer.data(), answer.size())) return std::nullopt;
  return answer;
}

// A resolver on 127.0.0.1:port answering every A question with `udp_address` over UDP and
// `tcp_address` over TCP, echoing the id and the question.
class FakeUpstream {
 public:
  FakeUpstream()
      : port(free_port()),
        udp_(bound_socket(SOCK_DGRAM, kLoopback, port)),
        tcp_(bound_socket(SOCK_STREAM, kLoopback, port)) {
    ::listen(tcp_.get(), 8);
    thread_ = std::thread([this] { serve(); });
  }
  ~FakeUpstream() {
    stop_ = true;
    thread_.join();
  }

  std::string address() const { return "127.0.0.1:" + std::to_string(port); }
  std::vector<Bytes> received() {
    std::lock_guard lock(mu_);
    return received_;
  }

  const uint16_t port;
  std::atomic<bool> truncate{false};
  std::string udp_address = "1.2.3.4";
  std::string tcp_address = "5.6.7.8";

 private:
  Bytes answer(const Bytes& q, const std::string& address) {
    {
      std::lock_guard lock(mu_);
      received_.push_back(q);
    }
    Bytes a(q.begin(), q.end());
    uint16_t flags = dns::kFlagQr | dns::kFlagRd | dns::kFlagRa | (truncate ? dns::kFlagTc : 0);
    a[2] = static_cast<uint8_t>(flags >> 8);
    a[3] = static_cast<uint8_t>(flags);
    a[7] = 1;  // one answer
    put16(a, 0xc00c);
    put16(a, dns::kTypeA);
    put16(a, dns::kClassIn);
    put16(a, 0);
    put16(a, 60);
    put16(a, 4);
    uint32_t ip = Ipv4::parse(address).value;
    put16(a, static_cast<uint16_t>(ip >> 16));
    put16(a, static_cast<uint16_t>(ip));
    return a;
  }

  void serve() {
    while (!stop_) {
      pollfd p[2] = {{udp_.get(), POLLIN, 0}, {tcp_.get(), POLLIN, 0}};
      if (::poll(p, 2, 50) <= 0) continue;
      if (p[0].revents & POLLIN) {
        Bytes buf(65535);
        sockaddr_in from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_.get(), buf.data(), buf.size(), 0,
                               reinterpret_cast<sockaddr*>(&from), &len);
        buf.resize(n);
        Bytes a = answer(buf, udp_address);
        ::sendto(udp_.get(), a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
      }
      if (p[1].revents & POLLIN) {
        UniqueFd conn(::accept4(tcp_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        uint8_t len[2];
        if (!read_all(conn.get(), len, 2)) continue;
        Bytes q(len[0] << 8 | len[1]);
        if (!read_all(conn.get(), q.data(), q.size())) continue;
        Bytes a = answer(q, tcp_address);
        Bytes framed;
        put16(framed, static_cast<uint16_t>(a.size()));
        framed.insert(framed.end(), a.begin(), a.end());
        EXPECT_EQ(::write(conn.get(), framed.data(), framed.size()),
                  static_cast<ssize_t>(framed.size()));
      }
    }
  }

  UniqueFd udp_, tcp_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<Bytes> received_;
  std::thread thread_;
};

// Containers on the network of 127.0.0.1: "web" (two of them, as compose scales it) and "db";
// on 127.0.0.2 "db" is another container.
std::vector<Ipv4> containers(Ipv4 local, const std::string& name) {
  if (local == kLoopback && name == "web") {
    return {Ipv4::parse("10.0.0.2"), Ipv4::parse("10.0.0.3")};
  }
  if (name == "db") return {Ipv4::parse(local == kLoopback ? "10.0.0.4" : "10.9.0.4")};
  return {};
}

// The PTR names of those containers, as berthd gives them; 10.0.0.66's container has a name
// no DNS name can carry.
std::string ptr_name(Ipv4 local, Ipv4 address) {
  if (local != kLoopback) return "";
  if (address == Ipv4::parse("10.0.0.4")) return "Db.backend";
  if (address == Ipv4::parse("10.0.0.66")) return "bad..name";
  return "";
}

class DnsServerTest : public ::testing::Test {
 protected:
  void SetUp() override { server.listen(kLoopback, port); }

  std::mutex mu;
  std::vector<std::string> names_looked_up;
  std::vector<Ipv4> askers;
  std::vector<Ipv4> addresses_looked_up;
  std::map<Ipv4, std::vector<std::string>> client_upstreams;
  bool strangers = false;  // the askers are no containers of the network
  DnsServer server{
      [this](Ipv4 local, Ipv4 client, const std::string& name) {
        std::lock_guard lock(mu);
        names_looked_up.push_back(name);
        askers.push_back(client);
        return DnsServer::Answer{containers(local, name), "", client_upstreams[client], strangers};
      },
      [this](Ipv4 local, Ipv4 client, Ipv4 address) {
        std::lock_guard lock(mu);
        addresses_looked_up.push_back(address);
        return DnsServer::Answer{{}, ptr_name(local, address), client_upstreams[client], strangers};
      },
      {}};
  uint16_t port = free_port();
};

TEST_F(DnsServerTest, AnswersALocalNameWithTheExactBytes) {
  auto got = ask_udp(port, query(0xbeef, "db"));
  ASSERT_TRUE(got);
  Bytes want = {0xbe, 0xef, 0x85, 0x80, 0, 1, 0, 1, 0,    0,    0, 0,  // id, QR AA RD RA, 1 q, 1 an
                2,    'd',  'b',  0,    0, 1, 0, 1,                    // db. A IN
                0xc0, 0x0c, 0,    1,    0, 1, 0, 0, 0x02, 0x58,        // db. A IN TTL 600
                0,    4,    10,   0,    0, 4};
  EXPECT_EQ(*got, want);
}

TEST_F(DnsServerTest, RotatesTheAddressesOfANameForEveryQuestion) {
  Answer first = parse(*ask_udp(port, query(1, "web")));
  Answer second = parse(*ask_udp(port, query(2, "web")));
  ASSERT_EQ(first.addresses.size(), 2u);
  ASSERT_EQ(second.addresses.size(), 2u);
  EXPECT_NE(first.addresses[0], second.addresses[0]);
  EXPECT_EQ(first.addresses[0], second.addresses[1]);
}

TEST_F(DnsServerTest, ComparesNamesWithoutCase) {
  Bytes q = query(7, "dB.");
  Bytes got = *ask_udp(port, q);
  EXPECT_EQ(parse(got).addresses, std::vector<std::string>{"10.0.0.4"});
  // The question comes back as asked, for resolvers that randomise case.
  EXPECT_TRUE(std::equal(q.begin() + 12, q.end(), got.begin() + 12));
  std::lock_guard lock(mu);
  EXPECT_EQ(names_looked_up, std::vector<std::string>{"db"});
  EXPECT_EQ(askers, std::vector<Ipv4>{kLoopback});
}

TEST_F(DnsServerTest, LooksUpOnTheNetworkTheQuestionCameIn) {
  server.listen(Ipv4::parse("127.0.0.2"), port);
  server.listen(Ipv4::parse("127.0.0.2"), port);  // a no-op
  Answer a = parse(*ask_udp(port, query(1, "db"), Ipv4::parse("127.0.0.2")));
  EXPECT_EQ(a.addresses, std::vector<std::string>{"10.9.0.4"});
}

TEST_F(DnsServerTest, OtherTypesOfALocalNameHaveNoRecordsButNoError) {
  Answer a = parse(*ask_udp(port, query(9, "web", dns::kTypeAaaa)));
  EXPECT_EQ(a.id, 9);
  EXPECT_EQ(a.rcode(), 0);
  EXPECT_TRUE(a.flags & dns::kFlagAa);
  EXPECT_TRUE(a.addresses.empty());
}

TEST_F(DnsServerTest, AnswersAPtrQuestionForALocalAddressWithTheExactBytes) {
  auto got = ask_udp(port, query(0xcafe, "4.0.0.10.in-addr.arpa", dns::kTypePtr));
  ASSERT_TRUE(got);
  Bytes want = {
      0xca, 0xfe, 0x85, 0x80, 0,   1,   0,   1,   0,    0,    0,   0,  // id, QR AA RD RA, 1 q, 1 an
      1,    '4',  1,    '0',  1,   '0', 2,   '1', '0',                 // 4.0.0.10
      7,    'i',  'n',  '-',  'a', 'd', 'd', 'r', 4,    'a',  'r', 'p', 'a', 0,  // in-addr.arpa.
      0,    12,   0,    1,                                                       // PTR IN
      0xc0, 0x0c, 0,    12,   0,   1,   0,   0,   0x02, 0x58,  // the question's name PTR IN 600
      0,    12,   2,    'D',  'b', 7,   'b', 'a', 'c',  'k',  'e', 'n', 'd', 0};  // Db.backend.
  EXPECT_EQ(*got, want);
  std::lock_guard lock(mu);
  EXPECT_EQ(addresses_looked_up, std::vector<Ipv4>{Ipv4::parse("10.0.0.4")});
  EXPECT_TRUE(names_looked_up.empty());
}

TEST_F(DnsServerTest, AnswersPtrQuestionsWithoutCaseAndOverTcp) {
  Bytes q = query(3, "4.0.0.10.IN-ADDR.Arpa.", dns::kTypePtr);
  auto got = ask_tcp(port, q);
  ASSERT_TRUE(got);
  Answer a = parse(*got);
  EXPECT_EQ(a.id, 3);
  EXPECT_EQ(a.ptr_names, std::vector<std::string>{"Db.backend"});
  EXPECT_TRUE(std::equal(q.begin() + 12, q.end(), got->begin() + 12));
}

TEST_F(DnsServerTest, ForwardsPtrQuestionsForOtherAddresses) {
  FakeUpstream upstream;
  server.set_upstreams({upstream.address()});
  Bytes q = query(0x2468, "9.9.168.192.in-addr.arpa", dns::kTypePtr);
  Answer a = parse(*ask_udp(port, q));
  EXPECT_EQ(a.id, 0x2468);
  EXPECT_EQ(a.rcode(), 0);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"1.2.3.4"});  // what the fake upstream says
  auto received = upstream.received();
  ASSERT_EQ(received.size(), 1u);
  EXPECT_TRUE(std::equal(q.begin() + 2, q.end(), received[0].begin() + 2, received[0].end()));
  std::lock_guard lock(mu);
  EXPECT_EQ(addresses_looked_up, std::vector<Ipv4>{Ipv4::parse("192.168.9.9")});
}

TEST_F(DnsServerTest, ForwardsMalformedReverseNamesAndOtherTypesOfThem) {
  FakeUpstream upstream;
  server.set_upstreams({upstream.address()});
  std::vector<Bytes> questions;
  for (std::string name :
       {"0.0.10.in-addr.arpa", "5.4.0.0.10.in-addr.arpa", "256.0.0.10.in-addr.arpa",
        "04.0.0.10.in-addr.arpa", "4.0.0.+1.in-addr.arpa", "4.0.0.-1.in-addr.arpa",
        "4.0.0.99999999999.in-addr.arpa", "in-addr.arpa", "4.0.0.10.in-addr",
        "4.0.0.10.in-addr.arpa.example", "4.0.0.10"}) {
    questions.push_back(query(1, name, dns::kTypePtr));
  }
  questions.push_back(query(1, "4.0.0.10.in-addr.arpa", dns::kTypeA));
  for (const Bytes& q : questions) {
    auto got = ask_udp(port, q);
    ASSERT_TRUE(got);
    EXPECT_EQ(parse(*got).addresses, std::vector<std::string>{"1.2.3.4"});
  }
  EXPECT_EQ(upstream.received().size(), questions.size());
  std::lock_guard lock(mu);
  EXPECT_TRUE(addresses_looked_up.empty());
}

TEST_F(DnsServerTest, FailsAPtrQuestionWhoseNameCannotBeWritten) {
  Answer a = parse(*ask_udp(port, query(5, "66.0.0.10.in-addr.arpa", dns::kTypePtr)));
  EXPECT_EQ(a.id, 5);
  EXPECT_EQ(a.rcode(), static_cast<int>(dns::Rcode::kServFail));
  EXPECT_TRUE(a.ptr_names.empty());
}

TEST_F(DnsServerTest, AnswersOverTcp) {
  auto got = ask_tcp(port, query(0x4242, "WEB"));
  ASSERT_TRUE(got);
  Answer a = parse(*got);
  EXPECT_EQ(a.id, 0x4242);
  EXPECT_EQ(a.addresses.size(), 2u);
}

TEST_F(DnsServerTest, ForwardsOtherNamesAndRelaysTheAnswerWithTheClientsId) {
  FakeUpstream upstream;
  server.set_upstreams({upstream.address()});
  Bytes q = query(0x1357, "example.com");
  Answer a = parse(*ask_udp(port, q));
  EXPECT_EQ(a.id, 0x1357);
  EXPECT_EQ(a.rcode(), 0);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"1.2.3.4"});
  auto received = upstream.received();
  ASSERT_EQ(received.size(), 1u);
  // The same question; only the id is the server's own.
  EXPECT_TRUE(std::equal(q.begin() + 2, q.end(), received[0].begin() + 2, received[0].end()));
}

TEST_F(DnsServerTest, ForwardsToTheAskersOwnResolversWhenItHasThem) {
  FakeUpstream own;
  server.set_upstreams({"127.0.0.1:" + std::to_string(free_port())});  // dead
  {
    std::lock_guard lock(mu);
    client_upstreams[kLoopback] = {own.address()};
  }
  Answer a = parse(*ask_udp(port, query(7, "example.com")));
  EXPECT_EQ(a.rcode(), 0);
  EXPECT_EQ(a.addresses, std::vector<std::string>{"1.2.3.4"});
  EXPECT_EQ(own.received().size(), 1u);
  // Local names are still answered by the server itself.
  Answer local = parse(*ask_udp(port, query(8, "db")));
  EXPECT_EQ(local.addresses, std::vector<std::string>{"10.0.0.4"});
  EXPECT_EQ(own.received().size(), 1u);
}

TEST_F(DnsServerTest, RelaysTruncationAndForwardsTcpQuestionsOverTcp) {
  FakeUpstream upstream;
  upstream.truncate = true;
  server.set_upstreams({upstream.address()});
  Answer over_udp = parse(*ask_udp(port, query(1, "big.example")));
  EXPECT_TRUE(over_udp.flags & dns::kFlagTc);
  Answer over_tcp = parse(*ask_tcp(port, query(2, "big.example")));
  EXPECT_EQ(over_tcp.id, 2);
  EXPECT_EQ(over_tcp.addresses, std::vector<std::string>{"5.6.7.8"});
}

TEST_F(DnsServerTest, RefusesAskersThatAreNoContainersOfTheNetwork) {
  FakeUpstream upstream;
  server.set_upstreams({upstream.address()});
  strangers = true;
  for (auto* name : {"db", "example.com", "4.0.0.10.in-addr.arpa"}) {
    Answer a = parse(*ask_udp(port, query(9, name)));
    EXPECT_EQ(a.rcode(), static_cast<int>(dns::Rcode::kRefused)) << name;
    EXPECT_TRUE(a.addresses.empty()) << name;
  }
  EXPECT_TRUE(upstream.received().empty()) << "nothing is forwarded for a stranger";
}

TEST_F(DnsServerTest, FailsWithoutUpstreams) {
  Answer a = parse(*ask_udp(port, query(3, "example.com")));
  EXPECT_EQ(a.id, 3);
  EXPECT_EQ(a.rcode(), static_cast<int>(dns::Rcode::kServFail));
}

TEST_F(DnsServerTest, FailsWhenTheUpstreamsAreDead) {
  server.set_upstreams({"127.0.0.1:" + std::to_string(free_port())});
  Answer udp = parse(*ask_udp(port, query(4, "example.com")));
  EXPECT_EQ(udp.rcode(), static_cast<int>(dns::Rcode::kServFail));
  Answer tcp = parse(*ask_tcp(port, query(5, "example.com")));
  EXPECT_EQ(tcp.id, 5);
  EXPECT_EQ(tcp.rcode(), static_cast<int>(dns::Rcode::kServFail));
}

TEST_F(DnsServerTest, MovesToTheNextUpstreamWhenOneIsSilentWithoutBlockingOthers) {
  uint16_t silent_port = free_port();
  UniqueFd silent(bound_socket(SOCK_DGRAM, kLoopback, silent_port));
  FakeUpstream upstream;
  server.set_upstreams({"127.0.0.1:" + std::to_string(silent_port), upstream.address()});

  std::optional<Bytes> forwarded;
  std::thread asker([&] { forwarded = ask_udp(port, query(6, "example.com")); });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto start = std::chrono::steady_clock::now();
  auto local = ask_udp(port, query(7, "db"));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ASSERT_TRUE(local);
  EXPECT_EQ(parse(*local).addresses, std::vector<std::string>{"10.0.0.4"});
  asker.join();
  ASSERT_TRUE(forwarded);
  EXPECT_EQ(parse(*forwarded).id, 6);
  EXPECT_EQ(parse(*forwarded).addresses, std::vector<std::string>{"1.2.3.4"});
}

TEST_F(DnsServerTest, SurvivesMalformedPackets) {
  // Too short for a header: no answer at all.
  EXPECT_FALSE(ask_udp(port, Bytes{0x12, 0x34, 0x01}, kLoopback, std::chrono::milliseconds(300)));

  Bytes past_the_end = query(0x1111, "db");
  past_the_end[12] = 60;  // a label longer than the packet
  Bytes loop = query(0x2222, "db");
  loop.resize(12);
  loop.insert(loop.end(), {1, 'a', 0xc0, 12, 0, 1, 0, 1});  // a.<pointer to itself>
  Bytes pointer_loop = query(0x3333, "db");
  pointer_loop.resize(12);
  pointer_loop.insert(pointer_loop.end(), {0xc0, 12, 0, 1, 0, 1});
  Bytes no_type = query(0x4444, "db");
  no_type.resize(no_type.size() - 3);
  for (const Bytes& bad : {past_the_end, loop, pointer_loop, no_type}) {
    auto got = ask_udp(port, bad);
    ASSERT_TRUE(got);
    Answer a = parse(*got);
    EXPECT_EQ(a.id, get16(bad, 0));
    EXPECT_EQ(a.rcode(), static_cast<int>(dns::Rcode::kFormErr));
  }
  // And over TCP, a length prefix promising more than comes, then a hang-up.
  {
    UniqueFd fd(connect_tcp(port));
    uint8_t partial[] = {0x01, 0x00, 0xab};
    ASSERT_EQ(::write(fd.get(), partial, sizeof partial), 3);
  }
  EXPECT_EQ(parse(*ask_udp(port, query(8, "db"))).addresses, std::vector<std::string>{"10.0.0.4"});
}

TEST_F(DnsServerTest, StopListeningClosesThePort) {
  ASSERT_TRUE(ask_udp(port, query(1, "db")));
  server.stop_listening(kLoopback);
  EXPECT_LT(connect_tcp(port), 0);
  UniqueFd udp(bound_socket(SOCK_DGRAM, kLoopback, port));
  EXPECT_GE(udp.get(), 0);
}

TEST(ParseQuery, StaysInsideRandomlyDamagedPackets) {
  std::mt19937 random(42);
  Bytes valid = query(1, "www.example.com");
  for (int i = 0; i < 20000; ++i) {
    Bytes packet = valid;
    packet.resize(random() % (valid.size() + 8));
    for (int flips = random() % 4 + 1; flips > 0 && !packet.empty(); --flips) {
      packet[random() % packet.size()] = static_cast<uint8_t>(random());
    }
    auto parsed = dns::parse_query(packet);
    if (auto* q = std::get_if<dns::Query>(&parsed)) {
      EXPECT_LE(q->question.size(), 255u + 4);
      EXPECT_FALSE(dns::reply(*q, dns::Rcode::kNoError, true).empty());
      EXPECT_TRUE(dns::ptr_reply(*q, "web.backend"));
      dns::reverse_address(q->name);
    }
  }
}

TEST(ReverseAddress, ReadsOnlyTheFourOctetsOfAnInAddrArpaName) {
  EXPECT_EQ(dns::reverse_address("4.3.2.1.in-addr.arpa"), Ipv4::parse("1.2.3.4"));
  EXPECT_EQ(dns::reverse_address("0.0.0.0.in-addr.arpa"), Ipv4::parse("0.0.0.0"));
  EXPECT_EQ(dns::reverse_address("255.255.255.255.in-addr.arpa"), Ipv4::parse("255.255.255.255"));
  for (const char* bad :
       {"", "in-addr.arpa", ".in-addr.arpa", "3.2.1.in-addr.arpa", "5.4.3.2.1.in-addr.arpa",
        "4.3.2.1.in-addr.arpa.", "4.3.2.01.in-addr.arpa", "4.3.2.256.in-addr.arpa",
        "4.3.2.a.in-addr.arpa", "4.3.2.1\\.in-addr.arpa", "4.3.2..in-addr.arpa", "4.3.2.1.ip6.arpa",
        "1.2.3.4"}) {
    EXPECT_EQ(dns::reverse_address(bad), std::nullopt) << bad;
  }
}

TEST(NameserversOf, TakesTheIpv4NameserversInOrder) {
  std::string conf =
      "# generated\n"
      "search example.com\n"
      "nameserver 10.0.0.1\n"
      "nameserver fe80::1\n"
      "  nameserver   192.168.1.1  # comment\n"
      "options ndots:2\n"
      "nameserver 8.8.8.8";
  EXPECT_EQ(nameservers_of(conf), (std::vector<std::string>{"10.0.0.1", "192.168.1.1", "8.8.8.8"}));
}

}  // namespace
}  // namespace berth::network
