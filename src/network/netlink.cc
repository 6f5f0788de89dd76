#include "network/netlink.h"

#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/msg.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/bridge.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <random>
#include <string_view>

#include "base/error.h"
#include "base/log.h"
#include "network/netns.h"

namespace berth::network {
namespace {

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using Socket = std::unique_ptr<nl_sock, Deleter<nl_sock, nl_socket_free>>;
using Callbacks = std::unique_ptr<nl_cb, Deleter<nl_cb, nl_cb_put>>;
using Link = std::unique_ptr<rtnl_link, Deleter<rtnl_link, rtnl_link_put>>;
using Address = std::unique_ptr<rtnl_addr, Deleter<rtnl_addr, rtnl_addr_put>>;
using Route = std::unique_ptr<rtnl_route, Deleter<rtnl_route, rtnl_route_put>>;
using NlAddr = std::unique_ptr<nl_addr, Deleter<nl_addr, nl_addr_put>>;
using Object = std::unique_ptr<nl_object, Deleter<nl_object, nl_object_put>>;

bool is_missing(int err) {
  return err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV;
}

NlAddr ipv4_addr(Ipv4 a, int prefixlen) {
  uint32_t raw = a.network_order();
  NlAddr out(nl_addr_build(AF_INET, &raw, sizeof raw));
  if (!out) throw Error("netlink: out of memory for address " + a.str());
  nl_addr_set_prefixlen(out.get(), prefixlen);
  return out;
}

Ipv4 ipv4_of(nl_addr* a) {
  uint32_t raw = 0;
  if (a && nl_addr_get_len(a) == sizeof raw) std::memcpy(&raw, nl_addr_get_binary_addr(a), 4);
  return Ipv4::from_network_order(raw);
}

Socket open_route_socket() {
  Socket sock(nl_socket_alloc());
  if (!sock) throw Error("netlink: out of memory for a socket");
  if (int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) {
    throw Error(std::string("netlink: connect route socket: ") + nl_geterror(err));
  }
  // Lets the kernel filter address and route dumps by link and table (4.20+); where it
  // cannot, the callers filter the full dump themselves.
  int one = 1;
  ::setsockopt(nl_socket_get_fd(sock.get()), SOL_NETLINK, NETLINK_GET_STRICT_CHK, &one, sizeof one);
  return sock;
}

}  // namespace

struct Netlink::Impl {
  Socket sock;
  std::string where;  // which namespace, for errors: empty for the caller's own

  [[noreturn]] void fail(int err, std::string_view what, std::string_view name) const {
    std::string msg = "netlink: " + std::string(what);
    if (!name.empty()) msg += " " + std::string(name);
    throw Error(msg + where + ": " + nl_geterror(err));
  }
  void check(int err, std::string_view what, std::string_view name) const {
    if (err < 0) fail(err, what, name);
  }

  // nullptr when there is no such link.
  Link find_link(const std::string& name) const {
    rtnl_link* link = nullptr;
    int err = rtnl_link_get_kernel(sock.get(), 0, name.c_str(), &link);
    if (is_missing(err)) return nullptr;
    check(err, "look up link", name);
    return Link(link);
  }

  Link link_by_index(int ifindex) const {
    rtnl_link* link = nullptr;
    check(rtnl_link_get_kernel(sock.get(), ifindex, nullptr, &link), "look up link index",
          std::to_string(ifindex));
    return Link(link);
  }

  void add_address(int ifindex, const Ipv4Prefix& prefix, int flags, std::string_view name) const {
    Address addr(rtnl_addr_alloc());
    auto local = ipv4_addr(prefix.addr, prefix.len);
    rtnl_addr_set_ifindex(addr.get(), ifindex);
    check(rtnl_addr_set_local(addr.get(), local.get()), "set address", name);
    if (prefix.len < 31) {
      auto brd = ipv4_addr(prefix.broadcast(), 32);
      check(rtnl_addr_set_broadcast(addr.get(), brd.get()), "set broadcast", name);
    }
    check(rtnl_addr_add(sock.get(), addr.get(), flags), "add address " + prefix.str() + " to",
          name);
  }

  // The objects of a dump request whose header `hdr` selects what the kernel sends, or the
  // error that ended it.
  template <class Header>
  int dump(int type, Header hdr, std::vector<Object>& out) const {
    // A dump the kernel saw change under it is incomplete; a second is almost always whole.
    for (int attempt = 1;; ++attempt) {
      out.clear();
      if (int err = nl_send_simple(sock.get(), type, NLM_F_DUMP, &hdr, sizeof hdr); err < 0) {
        return err;
      }
      Callbacks base(nl_socket_get_cb(sock.get()));
      Callbacks cb(nl_cb_clone(base.get()));
      if (!cb) return -NLE_NOMEM;
      nl_cb_set(
          cb.get(), NL_CB_VALID, NL_CB_CUSTOM,
          [](nl_msg* msg, void* arg) {
            nl_msg_parse(
                msg,
                [](nl_object* obj, void* objects) {
                  nl_object_get(obj);
                  static_cast<std::vector<Object>*>(objects)->emplace_back(obj);
                },
                arg);
            return static_cast<int>(NL_OK);
          },
          &out);
      int err = nl_recvmsgs(sock.get(), cb.get());
      if (err != -NLE_DUMP_INTR || attempt == 3) return err < 0 ? err : 0;
    }
  }

  std::vector<Route> main_routes() const {
    rtmsg hdr{};
    hdr.rtm_family = AF_INET;
    hdr.rtm_table = RT_TABLE_MAIN;
    std::vector<Object> objects;
    int err = dump(RTM_GETROUTE, hdr, objects);
    // A namespace that never had a route has no main table to filter on.
    if (err == -NLE_OBJ_NOTFOUND) return {};
    check(err, "list IPv4 routes", "");
    std::vector<Route> out;
    for (auto& o : objects) {
      Route route(reinterpret_cast<rtnl_route*>(o.release()));
      if (rtnl_route_get_family(route.get()) == AF_INET &&
          rtnl_route_get_table(route.get()) == RT_TABLE_MAIN) {
        out.push_back(std::move(route));
      }
    }
    return out;
  }
};

Netlink::Netlink() : impl_(std::make_unique<Impl>()) {
  impl_->sock = open_route_socket();
}

Netlink::Netlink(int netns_fd) : impl_(std::make_unique<Impl>()) {
  struct stat st {};
  if (::fstat(netns_fd, &st) == 0) impl_->where = " in net:[" + std::to_string(st.st_ino) + "]";
  // The socket belongs to the namespace it is created in, whatever thread uses it later.
  NetnsGuard guard;
  if (::setns(netns_fd, CLONE_NEWNET) < 0) {
    throw_errno("netlink: enter network namespace" + impl_->where);
  }
  impl_->sock = open_route_socket();
}

Netlink::~Netlink() = default;
Netlink::Netlink(Netlink&&) noexcept = default;
Netlink& Netlink::operator=(Netlink&&) noexcept = default;

bool Netlink::ensure_bridge(const std::string& name, const Ipv4Prefix& address, int mtu) {
  const Impl& nl = *impl_;
  Link link = nl.find_link(name);
  if (!link) {
    Link bridge(rtnl_link_bridge_alloc());
    if (!bridge) throw Error("netlink: out of memory for bridge " + name);
    rtnl_link_set_name(bridge.get(), name.c_str());
    rtnl_link_set_mtu(bridge.get(), mtu);
    rtnl_link_set_flags(bridge.get(), IFF_UP);
    // A bridge without an address of its own takes the lowest of its ports', which changes
    // as containers come and go, and the containers' ARP entries for the gateway go stale.
    std::random_device rd;
    // Locally administered; never 02:42:..., the containers' addresses.
    uint8_t raw[6] = {0x02};
    for (int i = 1; i < 6; i++) raw[i] = static_cast<uint8_t>(rd());
    if (raw[1] == 0x42) raw[1] = 0x43;
    NlAddr mac(nl_addr_build(AF_LLC, raw, sizeof raw));
    if (!mac) throw Error("netlink: out of memory for the MAC of bridge " + name);
    rtnl_link_set_addr(bridge.get(), mac.get());
    int err = rtnl_link_add(nl.sock.get(), bridge.get(), NLM_F_CREATE | NLM_F_EXCL);
    // Exists: another caller created it just now; it is checked like any existing one.
    if (err != -NLE_EXIST) {
      nl.check(err, "create bridge", name);
      try {
        link = nl.find_link(name);
        if (!link) nl.fail(-NLE_OBJ_NOTFOUND, "find new bridge", name);
        nl.add_address(rtnl_link_get_ifindex(link.get()), address, NLM_F_EXCL, name);
      } catch (...) {
        delete_link(name);
        throw;
      }
      return true;
    }
    link = nl.find_link(name);
    if (!link) nl.fail(-NLE_OBJ_NOTFOUND, "find bridge", name);
  }
  const char* kind = rtnl_link_get_type(link.get());
  if (!kind || std::strcmp(kind, "bridge") != 0) {
    throw Error("netlink: link " + name + " exists and is not a bridge");
  }
  int ifindex = rtnl_link_get_ifindex(link.get());
  if (rtnl_link_get_mtu(link.get()) != static_cast<unsigned>(mtu) ||
      !(rtnl_link_get_flags(link.get()) & IFF_UP)) {
    Link changes(rtnl_link_alloc());
    rtnl_link_set_mtu(changes.get(), mtu);
    rtnl_link_set_flags(changes.get(), IFF_UP);
    nl.check(rtnl_link_change(nl.sock.get(), link.get(), changes.get(), 0), "set mtu and up", name);
  }

  ifaddrmsg hdr{};
  hdr.ifa_family = AF_INET;
  hdr.ifa_index = ifindex;
  std::vector<Object> objects;
  nl.check(nl.dump(RTM_GETADDR, hdr, objects), "list addresses of", name);
  bool present = false;
  bool others = false;
  for (auto& o : objects) {
    auto* a = reinterpret_cast<rtnl_addr*>(o.get());
    if (rtnl_addr_get_family(a) != AF_INET || rtnl_addr_get_ifindex(a) != ifindex) continue;
    if (ipv4_of(rtnl_addr_get_local(a)) == address.addr &&
        rtnl_addr_get_prefixlen(a) == address.len) {
      present = true;
      continue;
    }
    others = true;
    int err = rtnl_addr_delete(nl.sock.get(), a, 0);
    // Deleting a primary address takes its secondaries along.
    if (err != -NLE_NOADDR && !is_missing(err)) nl.check(err, "remove old address of", name);
  }
  // Removing a primary may have taken ours along when it was a secondary: replace, which adds
  // it whether or not it is still there.
  if (!present || others) nl.add_address(ifindex, address, NLM_F_REPLACE, name);
  return false;
}

void Netlink::delete_link(const std::string& name) {
  Link link(rtnl_link_alloc());
  rtnl_link_set_name(link.get(), name.c_str());
  int err = rtnl_link_delete(impl_->sock.get(), link.get());
  if (!is_missing(err)) impl_->check(err, "delete link", name);
}

bool Netlink::link_exists(const std::string& name) {
  return impl_->find_link(name) != nullptr;
}

void Netlink::create_veth(const std::string& host_ifname, int netns_fd, const std::string& ifname) {
  const Impl& host = *impl_;
  Link veth(rtnl_link_veth_alloc());
  if (!veth) throw Error("netlink: out of memory for veth " + host_ifname);
  rtnl_link_set_name(veth.get(), host_ifname.c_str());
  Link peer(rtnl_link_veth_get_peer(veth.get()));
  rtnl_link_set_name(peer.get(), ifname.c_str());
  rtnl_link_set_ns_fd(peer.get(), netns_fd);
  host.check(rtnl_link_add(host.sock.get(), veth.get(), NLM_F_CREATE | NLM_F_EXCL), "create veth",
             host_ifname + " (peer " + ifname + ")");
}

void Netlink::attach_veth(const std::string& host_ifname, const std::string& bridge_name, int mtu) {
  const Impl& host = *impl_;
  Link bridge = host.find_link(bridge_name);
  if (!bridge) {
    throw Error("netlink: attach veth " + host_ifname + ": bridge " + bridge_name +
                " does not exist");
  }
  Link host_end = host.find_link(host_ifname);
  if (!host_end) host.fail(-NLE_OBJ_NOTFOUND, "find veth", host_ifname);
  if (rtnl_link_get_master(host_end.get()) == rtnl_link_get_ifindex(bridge.get()) &&
      static_cast<int>(rtnl_link_get_mtu(host_end.get())) == mtu &&
      (rtnl_link_get_flags(host_end.get()) & IFF_UP))
    return;
  Link attach(rtnl_link_alloc());
  rtnl_link_set_mtu(attach.get(), mtu);
  rtnl_link_set_master(attach.get(), rtnl_link_get_ifindex(bridge.get()));
  rtnl_link_set_flags(attach.get(), IFF_UP);
  host.check(rtnl_link_change(host.sock.get(), host_end.get(), attach.get(), 0),
             "attach veth to bridge " + bridge_name + ":", host_ifname);

  // A container reaching its own published port: with br_netfilter the DNAT happens while
  // the frame is bridged, and it must go back out of the port it came in by.
  std::string knob = "/sys/class/net/" + host_ifname + "/brport/hairpin_mode";
  UniqueFd fd(::open(knob.c_str(), O_WRONLY | O_CLOEXEC));
  if (!fd || ::write(fd.get(), "1", 1) != 1) throw_errno("set hairpin mode: " + knob);
}

int Netlink::link_index(const std::string& name) {
  Link link = impl_->find_link(name);
  if (!link) impl_->fail(-NLE_OBJ_NOTFOUND, "find link", name);
  return rtnl_link_get_ifindex(link.get());
}

void Netlink::set_up(int ifindex, int mtu, const std::string& name) {
  Link orig(rtnl_link_alloc());
  Link changes(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), ifindex);
  rtnl_link_set_mtu(changes.get(), mtu);
  rtnl_link_set_flags(changes.get(), IFF_UP);
  impl_->check(rtnl_link_change(impl_->sock.get(), orig.get(), changes.get(), 0), "set up", name);
}

void Netlink::configure_peer(int ifindex, const VethSpec& spec) {
  const Impl& ns = *impl_;
  Link orig(rtnl_link_alloc());
  rtnl_link_set_ifindex(orig.get(), ifindex);
  // One request: the kernel sets the address and MTU before it applies the flags.
  Link changes(rtnl_link_alloc());
  NlAddr mac;
  if (!spec.mac.empty()) {
    nl_addr* parsed = nullptr;
    if (nl_addr_parse(spec.mac.c_str(), AF_LLC, &parsed) < 0) {
      throw InvalidArgument("invalid MAC address " + spec.mac + " for " + spec.host_ifname);
    }
    mac.reset(parsed);
    rtnl_link_set_addr(changes.get(), mac.get());
  }
  rtnl_link_set_mtu(changes.get(), spec.mtu);
  rtnl_link_set_flags(changes.get(), IFF_UP);
  ns.check(rtnl_link_change(ns.sock.get(), orig.get(), changes.get(), 0), "set up veth peer",
           spec.ifname);
  ns.add_address(ifindex, spec.address, NLM_F_EXCL, spec.ifname);
  for (auto ip : spec.link_local) ns.add_address(ifindex, {ip, 16}, NLM_F_EXCL, spec.ifname);
  if (!spec.gateway) return;
  Route route(rtnl_route_alloc());
  rtnl_route_set_family(route.get(), AF_INET);
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_protocol(route.get(), RTPROT_BOOT);
  auto dst = ipv4_addr(Ipv4{}, 0);
  rtnl_route_set_dst(route.get(), dst.get());
  rtnl_nexthop* nh = rtnl_route_nh_alloc();
  if (!nh) throw Error("netlink: out of memory for a route");
  rtnl_route_nh_set_ifindex(nh, ifindex);
  auto gw = ipv4_addr(*spec.gateway, 32);
  rtnl_route_nh_set_gateway(nh, gw.get());
  rtnl_route_add_nexthop(route.get(), nh);
  ns.check(rtnl_route_add(ns.sock.get(), route.get(), NLM_F_EXCL),
           "add default route via " + spec.gateway->str() + " on", spec.ifname);
}

void Netlink::plug_veth(const VethSpec& spec) {
  attach_veth(spec.host_ifname, spec.bridge, spec.mtu);
  Netlink inside(spec.netns_fd);
  inside.configure_peer(inside.link_index(spec.ifname), spec);
}

void Netlink::add_veth(const VethSpec& spec) {
  create_veth(spec.host_ifname, spec.netns_fd, spec.ifname);
  try {
    plug_veth(spec);
  } catch (...) {
    // Deleting the host end deletes its peer wherever that is.
    try {
      delete_link(spec.host_ifname);
    } catch (const std::exception& e) {
      log::warn(e.what());
    }
    throw;
  }
}

int Netlink::uplink_mtu() {
  int ifindex = 0;
  uint32_t best = 0;
  for (auto& r : impl_->main_routes()) {
    nl_addr* dst = rtnl_route_get_dst(r.get());
    if (rtnl_route_get_type(r.get()) != RTN_UNICAST || (dst && nl_addr_get_prefixlen(dst) != 0)) {
      continue;
    }
    // Of several default routes the kernel uses the one of lowest metric.
    uint32_t metric = rtnl_route_get_priority(r.get());
    rtnl_nexthop* nh = rtnl_route_nexthop_n(r.get(), 0);
    if (!nh || (ifindex != 0 && metric >= best)) continue;
    ifindex = rtnl_route_nh_get_ifindex(nh);
    best = metric;
  }
  if (ifindex == 0) return 1500;
  return static_cast<int>(rtnl_link_get_mtu(impl_->link_by_index(ifindex).get()));
}

std::vector<Ipv4Prefix> Netlink::routes() {
  std::vector<Ipv4Prefix> out;
  for (auto& r : impl_->main_routes()) {
    nl_addr* dst = rtnl_route_get_dst(r.get());
    int len = dst ? static_cast<int>(nl_addr_get_prefixlen(dst)) : 0;
    out.push_back(Ipv4Prefix{ipv4_of(dst), len});
  }
  return out;
}

}  // namespace berth::network
