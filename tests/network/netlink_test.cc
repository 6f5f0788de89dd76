// Links, addresses, routes and namespaces against the real kernel (root only). Every name
// carries this process's id and every address lies in a 10.251.x.0/24 no route of the host
// touches; TearDown removes all of it with iproute2, independently of the code under test.
#include "network/netlink.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "base/error.h"
#include "gtest/gtest.h"
#include "network/netns.h"
#include "support/process.h"

namespace berth::network {
namespace {

using nlohmann::json;

// A failing command's message goes with its output into the assertion that shows it.
test::Result run(const std::string& cmd) {
  return test::run_shell(cmd + " 2>&1");
}

json run_json(const std::string& cmd) {
  auto r = run(cmd);
  EXPECT_EQ(r.status, 0) << cmd << ": " << r.out;
  return r.status == 0 && !r.out.empty() ? json::parse(r.out) : json::array();
}

ino_t inode_of(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 ? st.st_ino : 0;
}

ino_t own_netns() {
  return inode_of("/proc/thread-self/ns/net");
}

bool has_flag(const json& link, const std::string& flag) {
  auto flags = link.value("flags", json::array());
  return std::find(flags.begin(), flags.end(), flag) != flags.end();
}

std::vector<std::string> inet_addresses(const json& link) {
  std::vector<std::string> out;
  for (auto& a : link.value("addr_info", json::array())) {
    if (a.value("family", "") == "inet") {
      out.push_back(a.value("local", "") + "/" + std::to_string(a.value("prefixlen", -1)));
    }
  }
  return out;
}

class NetlinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_EQ(::geteuid(), 0u) << "needs root";
    tag_ = std::to_string(::getpid() % 10000);
    dir_ = "/run/berth-nltest-" + std::to_string(::getpid());
    bridge_ = "bnt" + tag_;
    pick_subnet();
  }

  void TearDown() override {
    for (auto& l : links_) run("ip link del " + l);
    run("ip link del " + bridge_);
    for (auto& ns : netns_) {
      ::umount2(ns.c_str(), MNT_DETACH);
      ::unlink(ns.c_str());
    }
    ::umount2(dir_.c_str(), MNT_DETACH);
    ::rmdir(dir_.c_str());
    EXPECT_FALSE(run("ip link show " + bridge_).status == 0);
  }

  // 10.251.x.0/24 with an x that no route or address of the host overlaps.
  void pick_subnet() {
    std::vector<Ipv4Prefix> taken;
    for (auto& r : run_json("ip -j -4 route show table all")) {
      auto dst = r.value("dst", "");
      if (dst == "default" || dst.empty()) continue;
      if (dst.find('/') == std::string::npos) dst += "/32";
      if (auto p = Ipv4::try_parse(dst.substr(0, dst.find('/')))) {
        taken.push_back({*p, std::stoi(dst.substr(dst.find('/') + 1))});
      }
    }
    for (int i = 0; i < 256; ++i) {
      Ipv4Prefix candidate{Ipv4{(10u << 24) | (251u << 16) | (((::getpid() + i) % 256u) << 8)}, 24};
      if (std::none_of(taken.begin(), taken.end(),
                       [&](const Ipv4Prefix& t) { return t.overlaps(candidate); })) {
        subnet_ = candidate;
        return;
      }
    }
    FAIL() << "no free 10.251.x.0/24";
  }

  Ipv4Prefix host_in_subnet(uint32_t host) const {
    return {Ipv4{subnet_.network().value | host}, subnet_.len};
  }
  std::string link(const std::string& suffix) {
    links_.push_back("vnt" + tag_ + suffix);
    return links_.back();
  }
  std::string netns(const std::string& name) {
    netns_.push_back(dir_ + "/" + name);
    return netns_.back();
  }
  VethSpec veth(const std::string& host_ifname, int netns_fd, uint32_t host) const {
    VethSpec spec;
    spec.bridge = bridge_;
    spec.host_ifname = host_ifname;
    spec.netns_fd = netns_fd;
    spec.address = host_in_subnet(host);
    spec.mac = mac_for(spec.address.addr);
    spec.gateway = host_in_subnet(1).addr;
    spec.mtu = 1450;
    return spec;
  }
  static std::vector<std::string> link_names_in(const std::string& ns) {
    std::vector<std::string> names;
    for (auto& l : run_json("nsenter --net=" + ns + " ip -j link show")) {
      names.push_back(l.value("ifname", ""));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  // eth0 inside `path` as `spec` describes it, with its default route, and the gateway
  // answering.
  static void expect_plugged(const std::string& path, const VethSpec& spec) {
    auto eth0 = run_json("nsenter --net=" + path + " ip -j addr show eth0");
    ASSERT_EQ(eth0.size(), 1u);
    EXPECT_EQ(inet_addresses(eth0[0]), std::vector<std::string>{spec.address.str()});
    EXPECT_EQ(eth0[0].value("address", ""), spec.mac);
    EXPECT_EQ(eth0[0].value("mtu", 0), spec.mtu);
    EXPECT_TRUE(has_flag(eth0[0], "UP"));
    auto routes = run_json("nsenter --net=" + path + " ip -j -4 route show default");
    ASSERT_EQ(routes.size(), 1u);
    EXPECT_EQ(routes[0].value("gateway", ""), spec.gateway->str());
    EXPECT_EQ(routes[0].value("dev", ""), "eth0");
    test::Result ping;
    // The first echo can miss while the host end's carrier and the bridge's FDB settle.
    for (int i = 0; i < 3; ++i) {
      ping = run("nsenter --net=" + path + " /bin/busybox ping -c1 -W1 " + spec.gateway->str());
      if (ping.status == 0) break;
    }
    EXPECT_EQ(ping.status, 0) << ping.out;
  }

  std::string tag_, dir_, bridge_;
  Ipv4Prefix subnet_;
  std::vector<std::string> links_, netns_;
};

TEST_F(NetlinkTest, NetnsLifecycle) {
  auto path = netns("lifecycle");
  ino_t before = own_netns();
  create_netns(path);
  EXPECT_EQ(own_netns(), before);

  ino_t ino = inode_of(path);
  EXPECT_NE(ino, 0u);
  EXPECT_NE(ino, before);
  {
    auto fd = open_netns(path);
    struct stat st {};
    ASSERT_EQ(::fstat(fd.get(), &st), 0);
    EXPECT_EQ(st.st_ino, ino);
  }
  auto lo = run_json("nsenter --net=" + path + " ip -j link show lo");
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_TRUE(has_flag(lo[0], "UP"));
  EXPECT_EQ(run("findmnt -no PROPAGATION " + dir_).out, "private\n");

  // The second create must neither bind over nor remove the first.
  EXPECT_THROW(create_netns(path), Error);
  EXPECT_EQ(inode_of(path), ino);
  EXPECT_EQ(own_netns(), before);

  // A second namespace in the same directory reuses its mount.
  auto other = netns("other");
  create_netns(other);
  EXPECT_NE(inode_of(other), ino);
  remove_netns(other);

  remove_netns(path);
  EXPECT_EQ(::access(path.c_str(), F_OK), -1);
  EXPECT_NO_THROW(remove_netns(path));
  try {
    open_netns(path);
    ADD_FAILURE() << "opened a removed namespace";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
  }
}

TEST_F(NetlinkTest, EnsureBridgeIsIdempotent) {
  Netlink nl;
  auto gw = host_in_subnet(1);
  auto show = [&] {
    auto links = run_json("ip -j addr show dev " + bridge_);
    return links.size() == 1 ? links[0] : json::object();
  };
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(nl.ensure_bridge(bridge_, gw, 1450), i == 0) << "created only the first time";
    auto b = show();
    EXPECT_EQ(b.value("mtu", 0), 1450);
    EXPECT_TRUE(has_flag(b, "UP"));
    EXPECT_EQ(inet_addresses(b), std::vector<std::string>{gw.str()});
    EXPECT_EQ(b["addr_info"][0].value("broadcast", ""), subnet_.broadcast().str());
    EXPECT_EQ(run_json("ip -j -d link show " + bridge_)[0]["linkinfo"].value("info_kind", ""),
              "bridge");
  }
  EXPECT_TRUE(nl.link_exists(bridge_));

  auto moved = host_in_subnet(254);
  nl.ensure_bridge(bridge_, moved, 1400);
  EXPECT_EQ(show().value("mtu", 0), 1400);
  EXPECT_EQ(inet_addresses(show()), std::vector<std::string>{moved.str()});

  // Ours as the secondary of another: removing the primary takes it along, yet it stays.
  run("ip addr flush dev " + bridge_);
  ASSERT_EQ(run("ip addr add " + host_in_subnet(7).str() + " dev " + bridge_).status, 0);
  ASSERT_EQ(run("ip addr add " + moved.str() + " dev " + bridge_).status, 0);
  ASSERT_EQ(run("ip link set " + bridge_ + " down").status, 0);
  nl.ensure_bridge(bridge_, moved, 1400);
  EXPECT_EQ(inet_addresses(show()), std::vector<std::string>{moved.str()});
  EXPECT_TRUE(has_flag(show(), "UP"));

  nl.delete_link(bridge_);
  EXPECT_FALSE(nl.link_exists(bridge_));
  EXPECT_NO_THROW(nl.delete_link(bridge_));

  auto not_bridge = link("v");
  ASSERT_EQ(run("ip link add " + not_bridge + " type veth peer name " + link("p")).status, 0);
  EXPECT_THROW(nl.ensure_bridge(not_bridge, gw, 1500), Error);
  EXPECT_TRUE(nl.link_exists(not_bridge)) << "a link it did not make is left alone";
}

TEST_F(NetlinkTest, VethReachesBridge) {
  Netlink nl;
  nl.ensure_bridge(bridge_, host_in_subnet(1), 1450);
  auto path = netns("c1");
  create_netns(path);
  auto fd = open_netns(path);
  auto spec = veth(link("a"), fd.get(), 2);
  ino_t before = own_netns();
  nl.add_veth(spec);
  EXPECT_EQ(own_netns(), before);

  auto host = run_json("ip -j link show " + spec.host_ifname);
  ASSERT_EQ(host.size(), 1u);
  EXPECT_EQ(host[0].value("master", ""), bridge_);
  EXPECT_EQ(host[0].value("mtu", 0), 1450);
  EXPECT_TRUE(has_flag(host[0], "UP"));

  EXPECT_EQ(link_names_in(path), (std::vector<std::string>{"eth0", "lo"}));
  expect_plugged(path, spec);
}

// A spare's way: the pair made and the peer brought up ahead of time, without an address;
// later, from a socket made inside then, the peer gets its MAC (while up), address and route.
TEST_F(NetlinkTest, SpareIsAddressedLater) {
  Netlink nl;
  nl.ensure_bridge(bridge_, host_in_subnet(1), 1450);
  auto path = netns("spare");
  create_netns(path);
  auto fd = open_netns(path);
  auto spec = veth(link("s"), fd.get(), 3);
  nl.create_veth(spec.host_ifname, fd.get(), "eth0");
  nl.attach_veth(spec.host_ifname, bridge_, 1450);
  Netlink inside(fd.get());
  int peer = inside.link_index("eth0");
  inside.set_up(peer, 1450, "eth0");

  auto eth0 = run_json("nsenter --net=" + path + " ip -j addr show eth0");
  ASSERT_EQ(eth0.size(), 1u);
  EXPECT_TRUE(has_flag(eth0[0], "UP"));
  EXPECT_TRUE(inet_addresses(eth0[0]).empty());
  // IPv4-only networks: no IPv6 on the container's links (no link-local address to make and
  // check), while lo keeps ::1.
  EXPECT_EQ(run("nsenter --net=" + path + " cat /proc/sys/net/ipv6/conf/eth0/disable_ipv6").out,
            "1\n");
  EXPECT_EQ(eth0[0].value("addr_info", json::array()).size(), 0u);
  auto lo = run_json("nsenter --net=" + path + " ip -j -6 addr show lo");
  ASSERT_EQ(lo.size(), 1u);
  EXPECT_EQ(lo[0].value("addr_info", json::array()).at(0).value("local", ""), "::1");

  Netlink moved = std::move(inside);
  moved.configure_peer(peer, spec);
  expect_plugged(path, spec);
}

TEST_F(NetlinkTest, AddVethLeavesNothingBehindOnFailure) {
  Netlink nl;
  auto path = netns("c1");
  create_netns(path);
  auto fd = open_netns(path);

  auto missing_bridge = veth(link("nb"), fd.get(), 2);
  missing_bridge.bridge = bridge_ + "x";
  EXPECT_THROW(nl.add_veth(missing_bridge), Error);
  EXPECT_FALSE(nl.link_exists(missing_bridge.host_ifname));

  nl.ensure_bridge(bridge_, host_in_subnet(1), 1450);
  nl.add_veth(veth(link("a"), fd.get(), 2));

  // eth0 is taken in the namespace: the pair cannot be made.
  auto clash = veth(link("b"), fd.get(), 3);
  try {
    nl.add_veth(clash);
    ADD_FAILURE() << "second eth0 added";
  } catch (const Error& e) {
    std::string what = e.what();
    EXPECT_NE(what.find("eth0"), std::string::npos) << what;
  }
  EXPECT_FALSE(nl.link_exists(clash.host_ifname));
  EXPECT_EQ(link_names_in(path), (std::vector<std::string>{"eth0", "lo"}));

  // A gateway off the subnet: the last step fails, after address and links are set.
  auto path2 = netns("c2");
  create_netns(path2);
  auto fd2 = open_netns(path2);
  auto bad_gateway = veth(link("c"), fd2.get(), 4);
  bad_gateway.gateway = Ipv4::parse("192.0.2.254");
  EXPECT_THROW(nl.add_veth(bad_gateway), Error);
  EXPECT_FALSE(nl.link_exists(bad_gateway.host_ifname));
  EXPECT_EQ(link_names_in(path2), std::vector<std::string>{"lo"});

  // The name of an existing link is not ours to delete on failure.
  auto existing = veth(link("a"), fd2.get(), 5);
  EXPECT_THROW(nl.add_veth(existing), Error);
  EXPECT_TRUE(nl.link_exists(existing.host_ifname));
}

TEST_F(NetlinkTest, UplinkMtuAndRoutes) {
  Netlink nl;
  int expected_mtu = 1500;
  auto defaults = run_json("ip -j -4 route show default");
  if (!defaults.empty()) {
    expected_mtu = run_json("ip -j link show " + defaults[0].value("dev", ""))[0].value("mtu", 0);
  }
  EXPECT_EQ(nl.uplink_mtu(), expected_mtu);

  std::set<std::string> expected;
  for (auto& r : run_json("ip -j -4 route show table main")) {
    auto dst = r.value("dst", "");
    if (dst == "default") dst = "0.0.0.0/0";
    if (dst.find('/') == std::string::npos) dst += "/32";
    expected.insert(dst);
  }
  std::set<std::string> got;
  for (auto& p : nl.routes()) got.insert(p.str());
  EXPECT_EQ(got, expected);

  auto path = netns("c1");
  create_netns(path);
  auto fd = open_netns(path);
  ino_t before = own_netns();
  {
    Netlink inside(fd.get());
    EXPECT_EQ(own_netns(), before);
    EXPECT_TRUE(inside.routes().empty());
    EXPECT_EQ(inside.uplink_mtu(), 1500);
    EXPECT_TRUE(inside.link_exists("lo"));

    nl.ensure_bridge(bridge_, host_in_subnet(1), 1450);
    nl.add_veth(veth(link("a"), fd.get(), 2));
    EXPECT_EQ(inside.uplink_mtu(), 1450);
    std::set<std::string> routes;
    for (auto& p : inside.routes()) routes.insert(p.str());
    EXPECT_EQ(routes, (std::set<std::string>{"0.0.0.0/0", subnet_.str()}));
  }
  EXPECT_THROW(Netlink(-1), Error);
  EXPECT_EQ(own_netns(), before);
}

// What a container start costs in this module: its namespace and its veth.
TEST_F(NetlinkTest, FiftyContainersOnOneBridge) {
  Netlink nl;
  nl.ensure_bridge(bridge_, host_in_subnet(1), 1500);
  std::vector<double> ms;
  for (int i = 0; i < 50; ++i) {
    auto path = netns("t" + std::to_string(i));
    auto host_ifname = link("t" + std::to_string(i));
    auto start = std::chrono::steady_clock::now();
    create_netns(path);
    auto fd = open_netns(path);
    nl.add_veth(veth(host_ifname, fd.get(), 10 + i));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                     .count());
  }
  auto bridged = run_json("ip -j link show master " + bridge_);
  EXPECT_EQ(bridged.size(), 50u);
  std::sort(ms.begin(), ms.end());
  RecordProperty("median_ms", std::to_string(ms[ms.size() / 2]));
  std::printf("create_netns + add_veth: median %.2f ms, min %.2f ms, max %.2f ms\n",
              ms[ms.size() / 2], ms.front(), ms.back());
}

}  // namespace
}  // namespace berth::network
