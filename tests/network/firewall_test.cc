// Firewall against the real kernel: a small topology of network namespaces ("containers" on
// berth bridges, an "outside" host routed through this one) and real TCP/UDP traffic.
#include "network/firewall.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"
#include "support/process.h"
#include "support/temp_dir.h"

namespace berth::network {
namespace {

// Runs a shell command; returns its stdout and sets `status` to its exit code.
std::string sh(const std::string& cmd, int* status = nullptr) {
  test::Result r = test::run_shell(cmd);
  if (status) *status = r.status;
  return r.out;
}

// Throws (gtest reports it as a failure, TearDown still runs) when a setup command fails.
void must(const std::string& cmd) {
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("command failed: " + cmd);
}

// Server: answers every TCP connection or UDP datagram with "<tag> <peer address>", so a
// client learns which server it reached and which source address that server saw.
// Client: prints the answer, or nothing when nothing answers within the timeout.
const char* kPeerScript = R"(import socket, sys
mode = sys.argv[1]
if mode == 'serve':
    proto, port, tag, ready = sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
    kind = socket.SOCK_STREAM if proto == 'tcp' else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(('0.0.0.0', port))
    if proto == 'tcp':
        s.listen(16)
    open(ready, 'w').close()
    while True:
        if proto == 'tcp':
            c, a = s.accept()
            c.sendall(('%s %s\n' % (tag, a[0])).encode())
            c.close()
        else:
            d, a = s.recvfrom(100)
            s.sendto(('%s %s\n' % (tag, a[0])).encode(), a)
else:
    proto, host, port, timeout = sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5])
    try:
        if proto == 'tcp':
            s = socket.create_connection((host, port), timeout=timeout)
            print(s.recv(100).decode().strip())
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(timeout)
            s.sendto(b'x', (host, port))
            print(s.recvfrom(100)[0].decode().strip())
    except OSError:
        pass
)";

// Not whatever python3 PATH finds first: a version manager's shim takes a second to start.
const std::string kPython = "/usr/bin/python3 ";

// The topology is built once for the suite (it takes seconds); each test starts from an
// empty firewall and leaves none behind.
class FirewallTest : public ::testing::Test {
 protected:
  // Container namespaces: name suffix, bridge index, address.
  struct Container {
    std::string name;
    int bridge;
    std::string ip;
  };
  static inline const std::vector<Container> kContainers = {
      {"c1", 0, "10.252.1.2"}, {"c2", 0, "10.252.1.3"},  {"c3", 1, "10.252.2.2"},
      {"c4", 1, "10.252.2.3"}, {"ci1", 2, "10.252.3.2"}, {"ci2", 2, "10.252.3.3"}};

  static void SetUpTestSuite() {
    if (::geteuid() != 0) throw std::runtime_error("needs root");
    std::string routes = sh("ip -4 route show; ip -4 addr show");
    if (routes.find("10.252.") != std::string::npos) {
      throw std::runtime_error("10.252.0.0/16 is in use on this host (a leftover?):\n" + routes);
    }
    tmp_ = std::make_unique<test::TempDir>("fw");
    dir_ = tmp_->path();
    std::ofstream(dir_ + "/peer.py") << kPeerScript;
    // Whether iptables' filter table existed, so that TearDown can leave the host as it was.
    filter_table_existed_ = sh("nft list tables").find("table ip filter") != std::string::npos;

    for (int b = 0; b < 3; ++b) {
      must("ip link add " + bridge(b) + " type bridge");
      must("ip addr add 10.252." + std::to_string(b + 1) + ".1/24 dev " + bridge(b));
      must("ip link set " + bridge(b) + " up");
    }
    for (const auto& c : kContainers) {
      std::string ns = netns(c.name), host_if = prefix_ + c.name;
      must("ip netns add " + ns);
      must("ip link add " + host_if + " type veth peer name eth0 netns " + ns);
      // Hairpin, as Docker sets it: with br_netfilter the DNAT of a container's packet to its
      // own published port happens while bridging, and the frame goes back out its own port.
      must("ip link set " + host_if + " master " + bridge(c.bridge) + " up");
      must("ip link set " + host_if + " type bridge_slave hairpin on");
      must("ip -n " + ns + " addr add " + c.ip + "/24 dev eth0");
      must("ip -n " + ns + " link set eth0 up");
      must("ip -n " + ns + " link set lo up");
      must("ip -n " + ns + " route add default via 10.252." + std::to_string(c.bridge + 1) + ".1");
    }
    // The outside host: a routed link 10.252.9.0/24 from this host (.1) to it (.2).
    must("ip netns add " + netns("out"));
    must("ip link add " + prefix_ + "out type veth peer name eth0 netns " + netns("out"));
    must("ip addr add 10.252.9.1/24 dev " + prefix_ + "out");
    must("ip link set " + prefix_ + "out up");
    must("ip -n " + netns("out") + " addr add 10.252.9.2/24 dev eth0");
    must("ip -n " + netns("out") + " link set eth0 up");
    must("ip -n " + netns("out") + " route add default via 10.252.9.1");

    for (const auto& c : kContainers) {
      serve(c.name, "tcp", 8080);
      serve(c.name, "udp", 8081);
    }
    serve("out", "tcp", 9000);
    ready_ = true;
  }

  static void TearDownTestSuite() {
    for (const auto& name : {"c1", "c2", "c3", "c4", "ci1", "ci2", "out"}) {
      std::string ns = netns(name);
      // Our servers, started in our namespaces: ip netns pids names exactly those.
      std::system(("for p in $(ip netns pids " + ns + " 2>/dev/null); do kill $p; done").c_str());
      std::system(("ip netns del " + ns + " 2>/dev/null").c_str());
    }
    for (int b = 0; b < 3; ++b) std::system(("ip link del " + bridge(b) + " 2>/dev/null").c_str());
    std::system(("ip link del " + prefix_ + "out 2>/dev/null").c_str());
    tmp_.reset();
  }

  void SetUp() override { ASSERT_TRUE(ready_) << "the test topology could not be built"; }

  void TearDown() override {
    try {
      fw_.remove();
    } catch (const std::exception& e) {
      ADD_FAILURE() << "remove: " << e.what();
    }
    if (iptables_saved_ && !iptables_saved_->empty()) {
      std::ofstream(dir_ + "/iptables") << *iptables_saved_;
      std::system(("iptables-restore -w < " + dir_ + "/iptables").c_str());
    }
    // apply() puts accept rules into iptables' FORWARD, which creates the (nftables backed)
    // filter table where there was none.
    if (!filter_table_existed_) std::system("nft delete table ip filter 2>/dev/null");
  }

  static std::string bridge(int b) { return prefix_ + "b" + std::to_string(b); }
  static std::string netns(const std::string& name) { return prefix_ + name; }

  // Starts a peer server in a namespace and waits until it listens.
  static void serve(const std::string& name, const std::string& proto, int port) {
    std::string ready = dir_ + "/ready-" + name + "-" + proto;
    must("ip netns exec " + netns(name) + " " + kPython + dir_ + "/peer.py serve " + proto + " " +
         std::to_string(port) + " " + name + " " + ready + " >/dev/null 2>&1 &");
    for (int i = 0; i < 250 && access(ready.c_str(), F_OK) != 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (access(ready.c_str(), F_OK) != 0) {
      throw std::runtime_error("server " + name + " " + proto + " did not start");
    }
  }

  // Connects from namespace `from` ("" for the host) and returns "<server> <source seen>",
  // or "" when nothing answered.
  std::string reach(const std::string& from, const std::string& addr, int port,
                    const std::string& proto = "tcp", double timeout = 3) {
    std::string cmd = (from.empty() ? "" : "ip netns exec " + netns(from) + " ") + kPython + dir_ +
                      "/peer.py connect " + proto + " " + addr + " " + std::to_string(port) + " " +
                      std::to_string(timeout);
    std::string out = sh(cmd);
    while (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
  // For what must not answer: a short timeout, since a drop only shows as silence.
  std::string unreachable(const std::string& from, const std::string& addr, int port) {
    return reach(from, addr, port, "tcp", 1);
  }

  // Bridge 0: c1, c2. Bridge 1 (icc=false): c3, c4. Bridge 2 (internal): ci1, ci2.
  FirewallState state() const {
    FirewallState s;
    s.networks = {{bridge(0), Ipv4Prefix::parse("10.252.1.0/24"), false, true},
                  {bridge(1), Ipv4Prefix::parse("10.252.2.0/24"), false, false},
                  {bridge(2), Ipv4Prefix::parse("10.252.3.0/24"), true, true}};
    s.ports = {
        {"tcp", Ipv4{}, 18080, Ipv4::parse("10.252.1.2"), 8080, bridge(0)},
        {"udp", Ipv4{}, 18081, Ipv4::parse("10.252.1.2"), 8081, bridge(0)},
        {"tcp", Ipv4::parse("10.252.9.1"), 18082, Ipv4::parse("10.252.1.3"), 8080, bridge(0)},
        {"tcp", Ipv4{}, 18084, Ipv4::parse("10.252.2.3"), 8080, bridge(1)}};
    return s;
  }

  static inline const std::string prefix_ = "bft" + std::to_string(::getpid() % 10000);
  static inline std::unique_ptr<test::TempDir> tmp_;
  static inline std::string dir_;
  static inline bool filter_table_existed_ = false;
  static inline bool ready_ = false;
  Firewall fw_{"berth_test_" + std::to_string(::getpid())};
  std::optional<std::string> iptables_saved_;  // set by the test that changes the policy
};

TEST_F(FirewallTest, PublishedPortAnswersOnLoopbackAndHostAddresses) {
  fw_.apply(state());
  // From 127.0.0.1 the container sees the bridge address (masqueraded loopback).
  EXPECT_EQ(reach("", "127.0.0.1", 18080), "c1 10.252.1.1");
  EXPECT_EQ(reach("", "127.0.0.1", 18081, "udp"), "c1 10.252.1.1");
  // Another host address: no masquerade needed, the container answers it through the host.
  EXPECT_EQ(reach("", "10.252.9.1", 18080), "c1 10.252.9.1");
  // A mapping bound to one host address answers there only.
  EXPECT_EQ(reach("", "10.252.9.1", 18082), "c2 10.252.9.1");
  EXPECT_EQ(unreachable("", "127.0.0.1", 18082), "");
}

TEST_F(FirewallTest, PublishedPortAnswersAnOutsideHost) {
  fw_.apply(state());
  EXPECT_EQ(reach("out", "10.252.9.1", 18080), "c1 10.252.9.2");
  EXPECT_EQ(reach("out", "10.252.9.1", 18081, "udp"), "c1 10.252.9.2");
  EXPECT_EQ(reach("out", "10.252.9.1", 18082), "c2 10.252.9.2");
}

TEST_F(FirewallTest, HairpinFromContainers) {
  fw_.apply(state());
  // A neighbour on the same bridge, through the gateway address and another host address.
  EXPECT_EQ(reach("c2", "10.252.1.1", 18080), "c1 10.252.1.1");
  EXPECT_EQ(reach("c2", "10.252.9.1", 18080), "c1 10.252.1.1");
  // A container reaching its own published port.
  EXPECT_EQ(reach("c1", "10.252.9.1", 18080), "c1 10.252.1.1");
  // A container of another network (bridges are otherwise isolated).
  EXPECT_EQ(reach("c3", "10.252.2.1", 18080), "c1 10.252.1.1");
}

TEST_F(FirewallTest, OutboundTrafficIsMasqueraded) {
  fw_.apply(state());
  EXPECT_EQ(reach("c1", "10.252.9.2", 9000), "out 10.252.9.1");
  EXPECT_EQ(reach("c3", "10.252.9.2", 9000), "out 10.252.9.1");
}

TEST_F(FirewallTest, BridgesAreIsolatedAndIccFalseHolds) {
  fw_.apply(state());
  EXPECT_EQ(reach("c1", "10.252.1.3", 8080), "c2 10.252.1.2");  // icc=true
  EXPECT_EQ(unreachable("c1", "10.252.2.2", 8080), "");
  EXPECT_EQ(unreachable("c3", "10.252.1.2", 8080), "");
  // icc=false: neighbours cannot talk directly, but published ports still answer.
  EXPECT_EQ(unreachable("c3", "10.252.2.3", 8080), "");
  EXPECT_EQ(reach("c3", "10.252.2.1", 18084), "c4 10.252.2.1");
}

TEST_F(FirewallTest, InternalNetworkHasNoWayOut) {
  fw_.apply(state());
  EXPECT_EQ(reach("ci1", "10.252.3.3", 8080), "ci2 10.252.3.2");
  EXPECT_EQ(unreachable("ci1", "10.252.9.2", 9000), "");
  EXPECT_EQ(unreachable("ci1", "10.252.1.2", 8080), "");
  EXPECT_EQ(unreachable("ci1", "10.252.3.1", 18080), "");  // published ports included
  EXPECT_EQ(unreachable("c1", "10.252.3.2", 8080), "");
  EXPECT_EQ(unreachable("out", "10.252.3.2", 8080), "");
}

TEST_F(FirewallTest, ApplyIsIdempotentAndDropsRemovedMappings) {
  auto s = state();
  fw_.apply(s);
  std::string list_cmd = "nft list table ip " + fw_.table();
  std::string first = sh(list_cmd);
  fw_.apply(s);
  EXPECT_EQ(sh(list_cmd), first);
  EXPECT_EQ(reach("", "127.0.0.1", 18080), "c1 10.252.1.1");

  s.ports.erase(s.ports.begin());
  fw_.apply(s);
  EXPECT_EQ(unreachable("", "127.0.0.1", 18080), "");
  EXPECT_EQ(reach("", "127.0.0.1", 18081, "udp"), "c1 10.252.1.1");
}

TEST_F(FirewallTest, RemoveLeavesNothing) {
  fw_.apply(state());
  std::string comment = "berth:" + fw_.table();
  EXPECT_NE(sh("nft list tables").find(fw_.table()), std::string::npos);
  fw_.remove();
  EXPECT_EQ(sh("nft list tables").find(fw_.table()), std::string::npos);
  EXPECT_EQ(sh("iptables -w -S FORWARD").find(comment), std::string::npos);
  fw_.remove();  // removing what is gone is fine
}

TEST_F(FirewallTest, ErrorsNameTheTableOrTheCulprit) {
  auto s = state();
  s.networks.push_back({prefix_ + "nx", Ipv4Prefix::parse("10.252.7.0/24"), false, true});
  try {
    fw_.apply(s);
    ADD_FAILURE() << "a missing bridge must fail";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(prefix_ + "nx does not exist"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find(fw_.table()), std::string::npos) << e.what();
  }
  s = state();
  s.ports[0].proto = "sctp";
  EXPECT_THROW(fw_.apply(s), InvalidArgument);
  EXPECT_THROW(Firewall("bad name;"), InvalidArgument);
}

TEST_F(FirewallTest, TrafficFlowsDespiteDockersForwardDrop) {
  int status = 0;
  iptables_saved_ = sh("iptables-save -t filter", &status);
  ASSERT_EQ(status, 0);
  must("iptables -w -P FORWARD DROP");

  fw_.apply(state());
  EXPECT_EQ(reach("c1", "10.252.9.2", 9000), "out 10.252.9.1");
  EXPECT_EQ(reach("out", "10.252.9.1", 18080), "c1 10.252.9.2");
  EXPECT_EQ(reach("c1", "10.252.1.3", 8080), "c2 10.252.1.2");
  EXPECT_EQ(reach("c3", "10.252.2.1", 18080), "c1 10.252.1.1");
  // Our table still drops what it must.
  EXPECT_EQ(unreachable("c1", "10.252.2.2", 8080), "");
  EXPECT_EQ(unreachable("ci1", "10.252.9.2", 9000), "");

  std::string comment = "berth:" + fw_.table();
  auto count = [&](const std::string& rule) {
    std::string rules = sh("iptables -w -S FORWARD");
    int n = 0;
    for (size_t at = rules.find(rule); at != std::string::npos; at = rules.find(rule, at + 1)) {
      ++n;
    }
    return n;
  };
  auto rule = [&](const char* dir, int b) {
    return std::string("-A FORWARD ") + dir + " " + bridge(b) + " -m comment --comment " + "\"" +
           comment + "\" -j ACCEPT";
  };
  for (int b = 0; b < 3; ++b) {
    EXPECT_EQ(count(rule("-i", b)), 1) << bridge(b);
    EXPECT_EQ(count(rule("-o", b)), 1) << bridge(b);
  }

  // A duplicate (say from a crashed daemon) and a dropped network: a fresh Firewall, with no
  // cache, cleans both up.
  must("iptables -w -I FORWARD -i " + bridge(0) + " -m comment --comment " + comment +
       " -j ACCEPT");
  auto s = state();
  s.networks.pop_back();
  Firewall again(fw_.table());
  again.apply(s);
  EXPECT_EQ(count(rule("-i", 0)), 1);
  EXPECT_EQ(count(rule("-o", 1)), 1);
  EXPECT_EQ(count(rule("-i", 2)), 0);
  EXPECT_EQ(count(rule("-o", 2)), 0);
}

// Many mappings go in one transaction; each answers (the time it takes is bench/'s business).
TEST_F(FirewallTest, ManyMappingsAllAnswer) {
  auto s = state();
  uint16_t last = 19000;
  for (; s.ports.size() < 10; ++last) {
    s.ports.push_back({"tcp", Ipv4{}, last, Ipv4::parse("10.252.1.3"), 8080, bridge(0)});
  }
  fw_.apply(s);
  EXPECT_EQ(reach("", "127.0.0.1", 19000), "c2 10.252.1.1");
  EXPECT_EQ(reach("out", "10.252.9.1", last - 1), "c2 10.252.9.2");
  EXPECT_EQ(reach("", "127.0.0.1", 18080), "c1 10.252.1.1");
}

}  // namespace
}  // namespace berth::network
