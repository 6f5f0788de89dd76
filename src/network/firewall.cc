#include "network/firewall.h"

#include <fcntl.h>
#include <net/if.h>
#include <nftables/libnftables.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <memory>
#include <set>
#include <sstream>

#include "base/error.h"
#include "base/fs.h"
#include "base/spawn.h"

extern char** environ;

namespace berth::network {
namespace {

struct NftCtxFree {
  void operator()(nft_ctx* ctx) const { nft_ctx_free(ctx); }
};
using NftCtx = std::unique_ptr<nft_ctx, NftCtxFree>;

// Runs `script` as one nftables transaction: the kernel takes all of it or none of it.
void run_nft(const std::string& table, const std::string& script) {
  NftCtx ctx(nft_ctx_new(NFT_CTX_DEFAULT));
  if (!ctx) throw Error("nftables table " + table + ": cannot create an nft context");
  // Buffered, so that nft's complaints end up in the exception, not on the daemon's stderr.
  nft_ctx_buffer_output(ctx.get());
  nft_ctx_buffer_error(ctx.get());
  if (nft_run_cmd_from_buffer(ctx.get(), script.c_str()) != 0) {
    const char* err = nft_ctx_get_error_buffer(ctx.get());
    throw Error("nftables table " + table + ": " + trim(err ? err : "unknown error"));
  }
}

// Names go into nft scripts and iptables arguments: only characters that need no quoting.
bool plain_name(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-' || c == '.';
  });
}

void check_bridge_name(const std::string& name) {
  if (name.size() >= IFNAMSIZ || !plain_name(name)) {
    throw InvalidArgument("invalid bridge name for the firewall: '" + name + "'");
  }
}

std::string quoted(const std::string& name) {
  return "\"" + name + "\"";
}

// An nft anonymous set of interface names: { "a", "b" }.
std::string name_set(const std::vector<std::string>& names) {
  std::string out = "{ ";
  for (size_t i = 0; i < names.size(); ++i) out += (i ? ", " : "") + quoted(names[i]);
  return out + " }";
}

void validate(const FirewallState& state) {
  std::set<std::string> seen;
  for (const auto& n : state.networks) {
    check_bridge_name(n.bridge);
    if (!seen.insert(n.bridge).second) {
      throw InvalidArgument("bridge " + n.bridge + " appears twice in the firewall state");
    }
  }
  for (const auto& p : state.ports) {
    if (p.proto != "tcp" && p.proto != "udp") {
      throw InvalidArgument("invalid protocol for a published port: '" + p.proto + "'");
    }
    if (p.host_port == 0 || p.container_port == 0 || p.container_ip.is_unspecified()) {
      throw InvalidArgument("incomplete port mapping " + p.proto + " " + p.host_ip.str() + ":" +
                            std::to_string(p.host_port) + " -> " + p.container_ip.str() + ":" +
                            std::to_string(p.container_port));
    }
  }
}

std::string ruleset(const std::string& table, const FirewallState& state) {
  std::vector<std::string> bridges;
  for (const auto& n : state.networks) bridges.push_back(n.bridge);

  std::ostringstream s;
  // "add" first so that "delete" never fails on a host that has no table yet; the three
  // commands are one transaction, so packets see either the old rules or the new ones.
  s << "add table ip " << table << "\n"
    << "delete table ip " << table << "\n"
    << "table ip " << table << " {\n";

  s << "  chain ports {\n";
  for (const auto& p : state.ports) {
    s << "    ";
    if (!p.host_ip.is_unspecified()) s << "ip daddr " << p.host_ip.str() << " ";
    s << p.proto << " dport " << p.host_port << " dnat to " << p.container_ip.str() << ":"
      << p.container_port << "\n";
  }
  s << "  }\n";

  // Published ports answer on every local address: prerouting catches what arrives from
  // outside and from containers (hairpin), output what the host itself sends (loopback too).
  s << "  chain prerouting {\n"
    << "    type nat hook prerouting priority dstnat; policy accept;\n"
    << "    fib daddr type local jump ports\n"
    << "  }\n"
    // -100 is dstnat, a name nft 1.0.6 refuses for the output hook.
    << "  chain output {\n"
    << "    type nat hook output priority -100; policy accept;\n"
    << "    fib daddr type local jump ports\n"
    << "  }\n";

  s << "  chain postrouting {\n"
    << "    type nat hook postrouting priority srcnat; policy accept;\n";
  if (!bridges.empty()) {
    // Connections to 127.0.0.1 DNATed onto a bridge keep their loopback source; the
    // container could not answer it.
    s << "    ip saddr 127.0.0.0/8 oifname " << name_set(bridges) << " masquerade\n";
  }
  for (const auto& n : state.networks) {
    std::string subnet = n.subnet.canonical().str();
    // Hairpin: a container reaching a published port of its own bridge through a host
    // address. Without the host as source the reply would go straight back over the bridge
    // with the container's address, which the client would not recognise.
    s << "    ip saddr " << subnet << " oifname " << quoted(n.bridge)
      << " ct status dnat masquerade\n";
    if (!n.internal) {
      s << "    ip saddr " << subnet << " oifname != " << quoted(n.bridge) << " masquerade\n";
    }
  }
  s << "  }\n";

  // Before iptables' filter chains (priority filter): a drop here is final whatever they say.
  s << "  chain forward {\n"
    << "    type filter hook forward priority filter - 1; policy accept;\n"
    << "    ct state established,related accept\n";
  for (const auto& n : state.networks) {
    if (!n.internal) continue;
    s << "    iifname " << quoted(n.bridge) << " oifname != " << quoted(n.bridge) << " drop\n"
      << "    oifname " << quoted(n.bridge) << " iifname != " << quoted(n.bridge) << " drop\n";
  }
  if (!bridges.empty()) {
    // Published ports are reachable by whoever reaches the host, containers of other
    // networks and of an icc=false network included.
    s << "    oifname " << name_set(bridges) << " ct status dnat accept\n";
  }
  for (const auto& n : state.networks) {
    // Same-bridge traffic passes this hook because br_netfilter hands bridged IPv4 to it.
    if (!n.icc) {
      s << "    iifname " << quoted(n.bridge) << " oifname " << quoted(n.bridge) << " drop\n";
    }
    std::vector<std::string> others;
    for (const auto& b : bridges) {
      if (b != n.bridge) others.push_back(b);
    }
    if (!others.empty()) {
      s << "    iifname " << quoted(n.bridge) << " oifname " << name_set(others) << " drop\n";
    }
  }
  s << "  }\n}\n";
  return s.str();
}

void write_sysctl(const std::string& path, const std::string& what) {
  if (!path_exists(path)) throw Error(what);
  write_file(path, "1");
}

// Runs a program found on PATH, its stdout and stderr together; nullopt when it is not
// installed.
std::optional<ProgramResult> run_both(const std::vector<std::string>& args) {
  return run_program(args, {SpawnOptions::Output::kCapture, SpawnOptions::Output::kCapture});
}

}  // namespace

Firewall::Firewall(std::string table) : table_(std::move(table)) {
  if (!plain_name(table_) || table_.find('.') != std::string::npos) {
    throw InvalidArgument("invalid nftables table name: '" + table_ + "'");
  }
}

void Firewall::apply(const FirewallState& state) {
  validate(state);
  std::lock_guard lock(mu_);
  write_sysctl("/proc/sys/net/ipv4/ip_forward", "firewall " + table_ + ": no IPv4 forwarding");
  for (const auto& n : state.networks) {
    // A connection to 127.0.0.1 DNATed onto the bridge leaves with a loopback source, which
    // the kernel refuses to route on that interface unless route_localnet is on.
    write_sysctl("/proc/sys/net/ipv4/conf/" + n.bridge + "/route_localnet",
                 "firewall " + table_ + ": bridge " + n.bridge + " does not exist");
    if (!n.icc) {
      // icc=false filters traffic between the ports of one bridge, which only reaches the IP
      // hooks through br_netfilter.
      write_sysctl("/proc/sys/net/bridge/bridge-nf-call-iptables",
                   "firewall " + table_ + ": icc=false on " + n.bridge +
                       " needs the br_netfilter kernel module");
    }
  }
  run_nft(table_, ruleset(table_, state));

  std::vector<std::string> bridges;
  for (const auto& n : state.networks) bridges.push_back(n.bridge);
  std::sort(bridges.begin(), bridges.end());
  if (iptables_bridges_ != bridges) {
    sync_iptables(bridges);
    iptables_bridges_ = std::move(bridges);
  }
}

void Firewall::remove() {
  std::lock_guard lock(mu_);
  run_nft(table_, "add table ip " + table_ + "\ndelete table ip " + table_ + "\n");
  sync_iptables({});
  iptables_bridges_.reset();
}

void Firewall::sync_iptables(const std::vector<std::string>& bridges) {
  const std::string comment = "berth:" + table_;
  auto iptables = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"iptables", "-w"});
    auto r = run_both(args);
    if (r && !r->succeeded()) {
      std::string cmd;
      for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
      throw Error("firewall " + table_ + ": " + cmd + ": " + trim(r->output));
    }
    return r;
  };

  auto listing = iptables({"-S", "FORWARD"});
  if (!listing) return;  // no iptables on this host: nothing can drop berth's traffic there

  // Keep the first of our rules for each (direction, wanted bridge); delete the rest:
  // duplicates and rules for bridges that are gone.
  std::set<std::pair<std::string, std::string>> present;
  for (const auto& line : split(listing->output, '\n')) {
    std::vector<std::string> words;
    for (auto& w : split(trim(line), ' ')) {
      // iptables-nft prints comments quoted; ours hold no space, so the quotes are all there
      // is to undo (and -D wants the bare text).
      if (w.size() >= 2 && w.front() == '"' && w.back() == '"') w = w.substr(1, w.size() - 2);
      if (!w.empty()) words.push_back(std::move(w));
    }
    if (words.size() < 2 || words[0] != "-A" || words[1] != "FORWARD") continue;
    auto tagged = std::find(words.begin(), words.end(), "--comment");
    if (tagged == words.end() || tagged + 1 == words.end() || tagged[1] != comment) continue;
    std::pair<std::string, std::string> key;
    for (size_t i = 2; i + 1 < words.size(); ++i) {
      if (words[i] == "-i" || words[i] == "-o") key = {words[i], words[i + 1]};
    }
    bool wanted = std::binary_search(bridges.begin(), bridges.end(), key.second);
    if (wanted && present.insert(key).second) continue;
    words[0] = "-D";
    iptables(words);
  }
  for (const auto& bridge : bridges) {
    for (const char* dir : {"-i", "-o"}) {
      if (present.contains({dir, bridge})) continue;
      iptables(
          {"-I", "FORWARD", dir, bridge, "-m", "comment", "--comment", comment, "-j", "ACCEPT"});
    }
  }
}

}  // namespace berth::network
