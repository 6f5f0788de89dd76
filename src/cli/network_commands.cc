// `berth network ...`: create, ls, inspect, rm, prune, connect and disconnect, each one or a
// few calls to the /networks endpoints with the docker CLI's flags, output and exit codes.
#include <arpa/inet.h>

#include <cstdio>
#include <cstring>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_opts.h"
#include "cli/formatter.h"
#include "cli/network_list.h"
#include "cli/network_opts.h"
#include "cli/template.h"

namespace berth::cli {

using nlohmann::json;

namespace {

std::string network_path(const std::string& name, const std::string& action = "") {
  return "/networks/" + path_escape(name) + (action.empty() ? "" : "/" + action);
}

// pflag's string slices: every use may carry several comma-separated values.
std::vector<std::string> flatten(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values)
    for (auto& part : split(v, ',')) out.push_back(part);
  return out;
}

// "k=v" -> {k: v}, "k" -> {k: ""}, as docker's map flags read them.
json kv_map(const std::vector<std::string>& kvs) {
  json m = json::object();
  for (const auto& kv : kvs) {
    size_t eq = kv.find('=');
    m[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
  }
  return m;
}

struct Cidr {
  int family = 0;
  unsigned char addr[16] = {};
  int prefix = 0;
};

Cidr parse_cidr(const std::string& s) {
  Cidr c;
  size_t slash = s.find('/');
  std::string ip = s.substr(0, slash);
  c.family = ip.find(':') == std::string::npos ? AF_INET : AF_INET6;
  int max = c.family == AF_INET ? 32 : 128;
  std::string bits = slash == std::string::npos ? "" : s.substr(slash + 1);
  bool digits = !bits.empty() && bits.size() <= 3 &&
                bits.find_first_not_of("0123456789") == std::string::npos;
  if (!digits || ::inet_pton(c.family, ip.c_str(), c.addr) != 1 || std::stoi(bits) > max)
    throw Error("invalid CIDR address: " + s);
  c.prefix = std::stoi(bits);
  return c;
}

// Whether `data` (an address, or the address of a CIDR) lies in `subnet`, as docker's
// network create checks ranges and gateways against subnets.
bool subnet_contains(const std::string& subnet, const std::string& data) {
  Cidr net;
  try {
    net = parse_cidr(subnet);
  } catch (const Error& e) {
    throw Error(std::string("invalid subnet: ") + e.what());
  }
  Cidr ip;
  if (data.find('/') != std::string::npos) {
    ip = parse_cidr(data);
  } else {
    ip.family = data.find(':') == std::string::npos ? AF_INET : AF_INET6;
    if (::inet_pton(ip.family, data.c_str(), ip.addr) != 1) return false;
  }
  if (ip.family != net.family) return false;
  for (int bit = 0; bit < net.prefix; ++bit) {
    unsigned char mask = static_cast<unsigned char>(0x80 >> (bit % 8));
    if ((ip.addr[bit / 8] & mask) != (net.addr[bit / 8] & mask)) return false;
  }
  return true;
}

// IPAM.Config from --subnet, --ip-range and --gateway, each range and gateway placed in the
// one subnet that holds it.
json ipam_config(const std::vector<std::string>& subnets, const std::vector<std::string>& ranges,
                 const std::vector<std::string>& gateways) {
  if (subnets.size() < ranges.size() || subnets.size() < gateways.size())
    throw Error("every ip-range or gateway must have a corresponding subnet");
  json config = json::array();
  for (const auto& s : subnets) {
    for (const auto& prior : config) {
      std::string p = prior["Subnet"];
      if (subnet_contains(s, p) || subnet_contains(p, s))
        throw Error("multiple overlapping subnet configuration is not supported");
    }
    config.push_back({{"Subnet", s}});
  }
  auto place = [&](const std::string& v, const char* key, const std::string& what) {
    bool matched = false;
    for (auto& c : config) {
      std::string s = c["Subnet"];
      if (!subnet_contains(s, v)) continue;
      if (c.contains(key))
        throw Error(
            "cannot configure multiple " + what + " (" + v + ", " + c[key].get<std::string>() +
            ") " + (what == "ranges" ? "on the same subnet (" : "for the same subnet (") + s + ")");
      c[key] = v;
      matched = true;
    }
    if (!matched)
      throw Error("no matching subnet for " +
                  std::string(what == "ranges" ? "range " : "gateway ") + v);
  };
  for (const auto& r : ranges) place(r, "IPRange", "ranges");
  for (const auto& g : gateways) place(g, "Gateway", "gateways");
  return config;
}

void register_create(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string driver = "bridge", ipam_driver = "default", scope;
    std::vector<std::string> subnets, ranges, gateways, labels, opts, ipam_opts;
    bool attachable = false, internal = false, ipv4 = true, ipv6 = false;
    CLI::Option *ipv4_opt = nullptr, *ipv6_opt = nullptr;
  };
  r.add(
      {.paths = {"network create"},
       .usage = "[OPTIONS] NETWORK",
       .summary = "Create a network",
       .min_args = 1,
       .max_args = 1},
      [&ctx](CLI::App& app, const Args& args) -> Run {
        auto o = std::make_shared<Options>();
        app.add_flag("--attachable", o->attachable, "Enable manual container attachment");
        app.add_option("-d,--driver", o->driver,
                       "Driver to manage the Network (default \"bridge\")")
            ->type_name("string");
        add_list(app, "--gateway", o->gateways, "IPv4 or IPv6 Gateway for the master subnet",
                 "strings");
        app.add_flag("--internal", o->internal, "Restrict external access to the network");
        add_list(app, "--ip-range", o->ranges, "Allocate container ip from a sub-range", "strings");
        app.add_option("--ipam-driver", o->ipam_driver,
                       "IP Address Management Driver (default \"default\")")
            ->type_name("string");
        add_list(app, "--ipam-opt", o->ipam_opts,
                 "Set IPAM driver specific options (default map[])", "map");
        o->ipv4_opt = app.add_flag("--ipv4", o->ipv4,
                                   "Enable or disable IPv4 address assignment (default true)");
        o->ipv6_opt = app.add_flag("--ipv6", o->ipv6, "Enable or disable IPv6 address assignment");
        add_list(app, "--label", o->labels, "Set metadata on a network");
        add_list(app, "-o,--opt", o->opts, "Set driver specific options (default map[])", "map");
        app.add_option("--scope", o->scope, "Control the network's scope")->type_name("string");
        add_list(app, "--subnet", o->subnets,
                 "Subnet in CIDR format that represents a network segment", "strings");
        return [&ctx, o, &args] {
          json body = {{"Name", args[0]},
                       {"Driver", o->driver},
                       {"Scope", o->scope},
                       {"IPAM",
                        {{"Driver", o->ipam_driver},
                         {"Options", kv_map(o->ipam_opts)},
                         {"Config", ipam_config(flatten(o->subnets), flatten(o->ranges),
                                                flatten(o->gateways))}}},
                       {"Internal", o->internal},
                       {"Attachable", o->attachable},
                       {"Ingress", false},
                       {"ConfigOnly", false},
                       {"ConfigFrom", nullptr},
                       {"Options", kv_map(o->opts)},
                       {"Labels", kv_map(o->labels)}};
          // Sent only when given, so that the daemon's defaults apply otherwise.
          if (o->ipv4_opt->count()) body["EnableIPv4"] = o->ipv4;
          if (o->ipv6_opt->count()) body["EnableIPv6"] = o->ipv6;
          json res = ctx.api().call("POST", "/networks/create", {}, &body);
          print_out(res.value("Id", std::string()) + "\n");
          return 0;
        };
      });
}

void register_ls(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    NetworkListOptions list;
    std::vector<std::string> filters;
  };
  r.add({.paths = {"network ls", "network list"},
         .usage = "[OPTIONS]",
         .summary = "List networks",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          add_list(app, "-f,--filter", o->filters, "Provide filter values (e.g. \"driver=bridge\")",
                   "filter");
          add_format_flag(app, o->list.format);
          app.add_flag("--no-trunc", o->list.no_trunc, "Do not truncate the output");
          app.add_flag("-q,--quiet", o->list.quiet, "Only display network IDs");
          return [&ctx, o] {
            Query q;
            if (auto f = filters_json(o->filters); !f.empty()) q.add("filters", f);
            json networks = ctx.api().call("GET", "/networks", q);
            NetworkListOptions lo = o->list;
            const json& config = ctx.config();
            if (lo.format.empty() && !lo.quiet && config.contains("networksFormat") &&
                config["networksFormat"].is_string())
              lo.format = config["networksFormat"].get<std::string>();
            print_out(render_networks(networks, lo));
            return 0;
          };
        });
}

void register_inspect(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string format;
    bool verbose = false;
  };
  r.add({.paths = {"network inspect"},
         .usage = "[OPTIONS] NETWORK [NETWORK...]",
         .summary = "Display detailed information on one or more networks",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-f,--format", o->format,
                         "Format output using a custom template:\n"
                         "'json':             Print in JSON format\n"
                         "'TEMPLATE':         Print output using the given Go template")
              ->type_name("string");
          app.add_flag("-v,--verbose", o->verbose, "Verbose output for diagnostics");
          return [&ctx, o, &args] {
            // docker prints the daemon's JSON as it came, fields in the daemon's order.
            nlohmann::ordered_json found = nlohmann::ordered_json::array();
            std::vector<std::string> errors;
            for (const auto& name : args) {
              std::string raw;
              try {
                ctx.api().stream({}, network_path(name), Query().flag("verbose", o->verbose),
                                 [&raw](std::string_view d) { raw += d; });
              } catch (const ApiError& e) {
                errors.push_back(e.what());
                continue;
              }
              found.push_back(nlohmann::ordered_json::parse(raw));
            }
            if (o->format.empty()) {
              print_out(found.dump(4) + "\n");
            } else {
              std::vector<json> values;
              for (const auto& f : found) values.push_back(json::parse(f.dump()));
              print_out(render_each(o->format == "json" ? "{{json .}}" : o->format, values));
            }
            for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
            return errors.empty() ? 0 : 1;
          };
        });
}

void register_rm(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"network rm", "network remove"},
         .usage = "NETWORK [NETWORK...]",
         .summary = "Remove one or more networks",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto force = std::make_shared<bool>(false);
          app.add_flag("-f,--force", *force, "Do not error if the network does not exist");
          return [&ctx, force, &args] {
            bool failed = false;
            for (const auto& name : args) {
              try {
                ctx.api().call("DELETE", network_path(name));
              } catch (const ApiError& e) {
                if (*force && e.status() == 404) continue;
                std::fprintf(stderr, "%s\n", e.what());
                failed = true;
                continue;
              }
              print_out(name + "\n");
            }
            // docker ends a failed rm with this line of its own.
            if (failed) std::fprintf(stderr, "exit status 1\n");
            return failed ? 1 : 0;
          };
        });
}

void register_prune(Registry& r) {
  add_prune_command(r, {.path = "network prune",
                        .summary = "Remove all unused networks",
                        .warning = "WARNING! This will remove all custom networks not used by at "
                                   "least one container.",
                        .endpoint = "/networks/prune",
                        .deleted_key = "NetworksDeleted",
                        .heading = "Deleted Networks:"});
}

void register_connect(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string ip, ip6;
    std::vector<std::string> aliases, driver_opts, links, link_local_ips;
  };
  r.add({.paths = {"network connect"},
         .usage = "[OPTIONS] NETWORK CONTAINER",
         .summary = "Connect a container to a network",
         .min_args = 2,
         .max_args = 2},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          add_list(app, "--alias", o->aliases, "Add network-scoped alias for the container",
                   "strings");
          add_list(app, "--driver-opt", o->driver_opts, "driver options for the network",
                   "strings");
          app.add_option("--ip", o->ip, "IPv4 address (e.g., \"172.30.100.104\")")
              ->type_name("string");
          app.add_option("--ip6", o->ip6, "IPv6 address (e.g., \"2001:db8::33\")")
              ->type_name("string");
          add_list(app, "--link", o->links, "Add link to another container");
          add_list(app, "--link-local-ip", o->link_local_ips,
                   "Add a link-local address for the container", "strings");
          return [&ctx, o, &args] {
            json links = json::array();
            for (const auto& l : o->links) links.push_back(validate_link(l));
            json ipam = json::object();
            if (!o->ip.empty()) ipam["IPv4Address"] = o->ip;
            if (!o->ip6.empty()) ipam["IPv6Address"] = o->ip6;
            if (auto lls = flatten(o->link_local_ips); !lls.empty()) ipam["LinkLocalIPs"] = lls;
            json endpoint = {{"IPAMConfig", ipam},
                             {"Links", links.empty() ? json(nullptr) : links},
                             {"Aliases", flatten(o->aliases)},
                             {"MacAddress", ""},
                             {"DriverOpts", kv_map(flatten(o->driver_opts))}};
            json body = {{"Container", args[1]}, {"EndpointConfig", endpoint}};
            ctx.api().call("POST", network_path(args[0], "connect"), {}, &body);
            return 0;
          };
        });
}

void register_disconnect(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"network disconnect"},
         .usage = "[OPTIONS] NETWORK CONTAINER",
         .summary = "Disconnect a container from a network",
         .min_args = 2,
         .max_args = 2},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto force = std::make_shared<bool>(false);
          app.add_flag("-f,--force", *force, "Force the container to disconnect from a network");
          return [&ctx, force, &args] {
            json body = {{"Container", args[1]}, {"Force", *force}};
            ctx.api().call("POST", network_path(args[0], "disconnect"), {}, &body);
            return 0;
          };
        });
}

}  // namespace

void register_network_commands(Registry& r) {
  register_create(r);
  register_ls(r);
  register_inspect(r);
  register_rm(r);
  register_prune(r);
  register_connect(r);
  register_disconnect(r);
}

}  // namespace berth::cli
