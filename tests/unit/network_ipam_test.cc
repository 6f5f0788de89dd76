// Address management, published-port requests and the files a container's network gives it.
#include <gtest/gtest.h>

#include "base/error.h"
#include "network/ipam.h"
#include "network/ports.h"
#include "network/sandbox_files.h"

namespace berth::network {
namespace {

using nlohmann::json;

Network bridge(const std::string& subnet, const std::string& gateway) {
  Network n;
  n.name = "app";
  n.driver = "bridge";
  n.subnet = Ipv4Prefix::parse(subnet);
  n.gateway = Ipv4::parse(gateway);
  return n;
}

TEST(NetworkIpam, PrefixArithmetic) {
  auto p = Ipv4Prefix::parse("10.1.2.3/24");
  EXPECT_EQ(p.network().str(), "10.1.2.0");
  EXPECT_EQ(p.broadcast().str(), "10.1.2.255");
  EXPECT_TRUE(p.contains(Ipv4::parse("10.1.2.200")));
  EXPECT_FALSE(p.contains(Ipv4::parse("10.1.3.1")));
  EXPECT_TRUE(p.overlaps(Ipv4Prefix::parse("10.1.0.0/16")));
  EXPECT_FALSE(p.overlaps(Ipv4Prefix::parse("10.1.3.0/24")));
  EXPECT_EQ(mac_for(Ipv4::parse("172.17.0.2")), "02:42:ac:11:00:02");
  for (auto bad : {"10.1.2.0", "10.1.2.0/33", "10.1/16", "a.b.c.d/8", "10.1.2.0/-1", ""})
    EXPECT_THROW(Ipv4Prefix::parse(bad), InvalidArgument) << bad;
}

TEST(NetworkIpam, PicksTheFirstSubnetClearOfRoutesAndNetworks) {
  std::vector<AddressPool> pools = {{Ipv4Prefix::parse("10.200.0.0/22"), 24}};
  std::vector<Ipv4Prefix> taken = {Ipv4Prefix::parse("0.0.0.0/0"),  // a default route
                                   Ipv4Prefix::parse("10.200.0.0/24"),
                                   Ipv4Prefix::parse("10.200.1.128/25")};
  EXPECT_EQ(pick_subnet(pools, taken).str(), "10.200.2.0/24");
  taken.push_back(Ipv4Prefix::parse("10.200.2.0/23"));
  EXPECT_THROW(pick_subnet(pools, taken), Error);
}

TEST(NetworkIpam, AllocatesTheLowestFreeAddressAndHonoursRequests) {
  auto n = bridge("10.5.0.0/29", "10.5.0.1");
  std::set<Ipv4> used;
  auto a = allocate_address(n, used, std::nullopt);
  EXPECT_EQ(a.str(), "10.5.0.2");
  used.insert(a);
  EXPECT_EQ(allocate_address(n, used, std::nullopt).str(), "10.5.0.3");
  EXPECT_EQ(allocate_address(n, used, Ipv4::parse("10.5.0.6")).str(), "10.5.0.6");
  EXPECT_THROW(allocate_address(n, used, Ipv4::parse("10.5.0.2")), Conflict);
  EXPECT_THROW(allocate_address(n, used, Ipv4::parse("10.5.0.1")), InvalidArgument);
  EXPECT_THROW(allocate_address(n, used, Ipv4::parse("10.5.0.7")), InvalidArgument);
  EXPECT_THROW(allocate_address(n, used, Ipv4::parse("10.6.0.2")), InvalidArgument);
  for (auto s : {"10.5.0.3", "10.5.0.4", "10.5.0.5", "10.5.0.6"}) used.insert(Ipv4::parse(s));
  EXPECT_THROW(allocate_address(n, used, std::nullopt), Conflict);
}

TEST(NetworkIpam, IpRangeBoundsDynamicAddresses) {
  auto n = bridge("10.5.0.0/24", "10.5.0.1");
  n.ip_range = Ipv4Prefix::parse("10.5.0.128/25");
  EXPECT_EQ(allocate_address(n, {}, std::nullopt).str(), "10.5.0.128");
}

TEST(NetworkIpam, ChecksSubnetGatewayAndRange) {
  auto s = Ipv4Prefix::parse("10.5.0.0/24");
  EXPECT_NO_THROW(check_ipam(s, Ipv4::parse("10.5.0.1"), std::nullopt));
  EXPECT_THROW(check_ipam(s, Ipv4::parse("10.6.0.1"), std::nullopt), InvalidArgument);
  EXPECT_THROW(check_ipam(s, Ipv4::parse("10.5.0.0"), std::nullopt), InvalidArgument);
  EXPECT_THROW(check_ipam(Ipv4Prefix::parse("10.5.0.1/24"), Ipv4::parse("10.5.0.2"), std::nullopt),
               InvalidArgument);
  EXPECT_THROW(check_ipam(s, Ipv4::parse("10.5.0.1"), Ipv4Prefix::parse("10.5.1.0/25")),
               InvalidArgument);
  EXPECT_THROW(check_ipam(s, Ipv4::parse("10.5.0.1"), Ipv4Prefix::parse("10.5.0.0/23")),
               InvalidArgument);
}

TEST(NetworkPorts, ReadsBindingsAndPublishAll) {
  json cfg = {{"ExposedPorts", {{"80/tcp", json::object()}, {"53/udp", json::object()}}}};
  json hc = {{"PortBindings",
              {{"80/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", "8080"}}}},
               {"443", {{{"HostIp", ""}, {"HostPort", ""}}}}}},
             {"PublishAllPorts", true}};
  auto ports = requested_ports(cfg, hc);
  ASSERT_EQ(ports.size(), 3u);
  std::map<std::string, PortBinding> by;
  for (auto& p : ports) by[std::to_string(p.container_port) + "/" + p.proto] = p;
  EXPECT_EQ(by["80/tcp"].host_ip.str(), "127.0.0.1");
  EXPECT_EQ(by["80/tcp"].host_port, 8080);
  EXPECT_EQ(by["443/tcp"].host_port, 0);
  EXPECT_EQ(by["53/udp"].host_port, 0);
  EXPECT_EQ(exposed_port_keys(cfg, hc), (std::vector<std::string>{"443/tcp", "53/udp", "80/tcp"}));
  EXPECT_THROW(requested_ports({}, {{"PortBindings", {{"x/tcp", nullptr}}}}), InvalidArgument);
  EXPECT_THROW(requested_ports({}, {{"PortBindings", {{"80/icmp", nullptr}}}}), InvalidArgument);
  EXPECT_THROW(requested_ports({}, {{"PortBindings", {{"80/tcp", {{{"HostPort", "70000"}}}}}}}),
               InvalidArgument);
}

TEST(NetworkPorts, ReservesAFreePortAndRefusesATakenOne) {
  PortBinding b{"tcp", 80, Ipv4::parse("127.0.0.1"), 0};
  auto held = reserve_port(b);
  ASSERT_NE(b.host_port, 0);
  PortBinding again{"tcp", 80, Ipv4::parse("127.0.0.1"), b.host_port};
  try {
    reserve_port(again);
    FAIL() << "a taken port was reserved twice";
  } catch (const Conflict& e) {
    EXPECT_NE(std::string(e.what()).find("port is already allocated"), std::string::npos);
  }
}

TEST(NetworkFiles, HostsFileAsDockerWritesIt) {
  auto text = hosts_file({{"10.0.0.3", {"db", "0123456789ab", "postgres"}}, {"1.2.3.4", {"ext"}}},
                         "10.0.0.2", "web", "example.org");
  EXPECT_EQ(text.rfind("127.0.0.1\tlocalhost\n", 0), 0u);
  EXPECT_NE(text.find("\n10.0.0.3\tdb 0123456789ab postgres\n1.2.3.4\text\n"), std::string::npos);
  std::string own = "10.0.0.2\tweb.example.org web\n";
  EXPECT_EQ(text.substr(text.size() - own.size()), own);
}

TEST(NetworkFiles, ResolvConfDropsLoopbackServersAndUsesTheEmbeddedOne) {
  std::string host = "# generated\nnameserver 127.0.0.53\nnameserver 10.9.9.9\nsearch corp\n";
  EXPECT_EQ(resolv_conf({host, {}, {}, {}, ""}), "nameserver 10.9.9.9\nsearch corp\n");
  EXPECT_EQ(resolv_conf({host, {"1.1.1.1"}, {"a.b"}, {"ndots:2"}, ""}),
            "nameserver 1.1.1.1\nsearch a.b\noptions ndots:2\n");
  EXPECT_EQ(resolv_conf({host, {}, {}, {}, "10.200.1.1"}),
            "nameserver 10.200.1.1\nsearch corp\noptions ndots:0\n");
}

}  // namespace
}  // namespace berth::network
