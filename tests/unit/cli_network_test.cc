#include <gtest/gtest.h>

#include "cli/container_opts.h"
#include "cli/network_list.h"
#include "cli/network_opts.h"
#include "cli/port_spec.h"

namespace berth::cli {
namespace {

using nlohmann::json;

json body_for(const std::vector<std::string>& flags) {
  CLI::App app;
  app.set_help_flag();
  ContainerOptions o;
  add_container_flags(app, o);
  std::vector<std::string> args(flags.rbegin(), flags.rend());  // CLI11 takes them reversed
  app.parse(args);
  return create_body(o, "busybox", {});
}

std::string publish_error(const std::string& spec) {
  json exposed = json::object(), bindings = json::object();
  try {
    parse_publish(spec, exposed, bindings);
  } catch (const FlagError& e) {
    return e.what();
  }
  return "";
}

json bindings_of(const std::vector<std::string>& specs) {
  json exposed = json::object(), bindings = json::object();
  for (const auto& s : specs) parse_publish(s, exposed, bindings);
  return bindings;
}

json binding(const std::string& ip, const std::string& port) {
  return {{"HostIp", ip}, {"HostPort", port}};
}

// The bindings and errors below are what docker 28's CLI sends and prints for the same -p.
TEST(CliNetwork, PublishForms) {
  json b = bindings_of({"80", "8080:80", "8080:80/udp", "127.0.0.1:8080:80", "127.0.0.1::81",
                        "8000-8001:90-91", "9000-9001:92", "[::1]:53:53/UDP", "::1:54:54", "::55",
                        "target=56,published=5600,protocol=sctp"});
  EXPECT_EQ(b["80/tcp"],
            json({binding("", ""), binding("", "8080"), binding("127.0.0.1", "8080")}));
  EXPECT_EQ(b["80/udp"], json({binding("", "8080")}));
  EXPECT_EQ(b["81/tcp"], json({binding("127.0.0.1", "")}));
  EXPECT_EQ(b["90/tcp"], json({binding("", "8000")}));
  EXPECT_EQ(b["91/tcp"], json({binding("", "8001")}));
  EXPECT_EQ(b["92/tcp"], json({binding("", "9000-9001")}));
  EXPECT_EQ(b["53/udp"], json({binding("::1", "53")}));
  EXPECT_EQ(b["54/tcp"], json({binding("::1", "54")}));
  EXPECT_EQ(b["55/tcp"], json({binding("", "")}));
  EXPECT_EQ(b["56/sctp"], json({binding("", "5600")}));
}

TEST(CliNetwork, PublishErrors) {
  EXPECT_EQ(publish_error("x"), "invalid containerPort: x");
  EXPECT_EQ(publish_error("80:x"), "invalid containerPort: x");
  EXPECT_EQ(publish_error("70000"), "invalid containerPort: 70000");
  EXPECT_EQ(publish_error("81-80"), "invalid containerPort: 81-80");
  EXPECT_EQ(publish_error("1.2.3:80:80"), "invalid IP address: 1.2.3");
  EXPECT_EQ(publish_error("1:2:3:4"), "invalid IP address: 1:2");
  EXPECT_EQ(publish_error("127.0.0.1:80"), "invalid hostPort: 127.0.0.1");
  EXPECT_EQ(publish_error("80/foo"), "invalid proto: foo");
  EXPECT_EQ(publish_error(""), "no port specified: <empty>");
  EXPECT_EQ(publish_error("8000-8001:80-82"),
            "invalid ranges specified for container and host Ports: 80-82 and 8000-8001");
  EXPECT_EQ(publish_error("0"), "");
}

TEST(CliNetwork, Expose) {
  json exposed = json::object();
  parse_expose("5000-5001", exposed);
  parse_expose("7/udp", exposed);
  EXPECT_EQ(exposed, json({{"5000/tcp", json::object()},
                           {"5001/tcp", json::object()},
                           {"7/udp", json::object()}}));
  auto error = [](const std::string& spec) {
    json e = json::object();
    try {
      parse_expose(spec, e);
    } catch (const FlagError& err) {
      return std::string(err.what());
    }
    return std::string();
  };
  EXPECT_EQ(error("x"),
            "invalid range format for --expose: x, error: strconv.ParseUint: parsing \"x\": "
            "invalid syntax");
  EXPECT_EQ(error("80:81"), "invalid port format for --expose: 80:81");
}

TEST(CliNetwork, PortsSortNaturally) {
  std::vector<std::string> v = {"10000/tcp -> 0.0.0.0:1", "80/tcp -> [::]:8080",
                                "9/udp -> 127.0.0.1:10009", "80/tcp -> 0.0.0.0:8080"};
  std::sort(v.begin(), v.end(), natural_less);
  EXPECT_EQ(v, (std::vector<std::string>{"9/udp -> 127.0.0.1:10009", "80/tcp -> 0.0.0.0:8080",
                                         "80/tcp -> [::]:8080", "10000/tcp -> 0.0.0.0:1"}));
  EXPECT_TRUE(natural_less("Net2", "bridge"));
  EXPECT_TRUE(natural_less("net2", "net10"));
  EXPECT_EQ(join_host_port("::", "80"), "[::]:80");
}

TEST(CliNetwork, DefaultNetworkBody) {
  json b = body_for({"-p",
                     "8080:80",
                     "-P",
                     "--expose",
                     "90",
                     "--dns",
                     "8.8.8.8",
                     "--dns-search",
                     "ex.com.",
                     "--dns-option",
                     "ndots:2",
                     "--add-host",
                     "h1:1.2.3.4",
                     "--add-host",
                     "h2=::1",
                     "--link",
                     "web",
                     "--mac-address",
                     "92:d0:c6:0a:29:33",
                     "-h",
                     "hn",
                     "--domainname",
                     "dn"});
  const json& h = b["HostConfig"];
  EXPECT_EQ(b["ExposedPorts"], json({{"80/tcp", json::object()}, {"90/tcp", json::object()}}));
  EXPECT_EQ(h["PortBindings"], json({{"80/tcp", {binding("", "8080")}}}));
  EXPECT_TRUE(h["PublishAllPorts"]);
  EXPECT_EQ(h["NetworkMode"], "default");
  EXPECT_EQ(h["Dns"], json({"8.8.8.8"}));
  EXPECT_EQ(h["DnsSearch"], json({"ex.com"}));
  EXPECT_EQ(h["DnsOptions"], json({"ndots:2"}));
  EXPECT_EQ(h["ExtraHosts"], json({"h1:1.2.3.4", "h2:::1"}));
  EXPECT_EQ(h["Links"], json({"web"}));
  EXPECT_EQ(b["Hostname"], "hn");
  EXPECT_EQ(b["Domainname"], "dn");
  // The default network always gets an endpoint; a legacy link is not part of it.
  const json& ep = b["NetworkingConfig"]["EndpointsConfig"]["default"];
  EXPECT_EQ(ep["MacAddress"], "92:d0:c6:0a:29:33");
  EXPECT_TRUE(ep["Links"].is_null());
  EXPECT_TRUE(ep["IPAMConfig"].is_null());
  EXPECT_FALSE(b.contains("MacAddress"));
}

TEST(CliNetwork, UserNetworkBody) {
  json b = body_for({"--network", "mynet", "--ip", "10.5.0.9", "--network-alias", "a1",
                     "--network-alias", "a2", "--link", "db:data"});
  EXPECT_EQ(b["HostConfig"]["NetworkMode"], "mynet");
  EXPECT_EQ(b["HostConfig"]["Links"], json({"db:data"}));
  json eps = b["NetworkingConfig"]["EndpointsConfig"];
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_EQ(eps["mynet"]["IPAMConfig"], json({{"IPv4Address", "10.5.0.9"}}));
  EXPECT_EQ(eps["mynet"]["Aliases"], json({"a1", "a2"}));
  EXPECT_EQ(eps["mynet"]["Links"], json({"db:data"}));
  // A single network with no endpoint options is left for the daemon to attach.
  EXPECT_EQ(body_for({"--network", "mynet"})["NetworkingConfig"]["EndpointsConfig"],
            json::object());
  EXPECT_EQ(body_for({"--network", "none", "--link", "a"})["NetworkingConfig"]["EndpointsConfig"],
            json::object());
  json adv = body_for({"--network", "name=n1,alias=x,ip=10.0.0.2", "--network", "n2"});
  EXPECT_EQ(adv["HostConfig"]["NetworkMode"], "n1");
  EXPECT_EQ(adv["NetworkingConfig"]["EndpointsConfig"]["n1"]["Aliases"], json({"x"}));
  EXPECT_TRUE(adv["NetworkingConfig"]["EndpointsConfig"].contains("n2"));
}

std::string body_error(const std::vector<std::string>& flags) {
  try {
    body_for(flags);
  } catch (const FlagError& e) {
    return e.what();
  }
  return "";
}

TEST(CliNetwork, FlagErrors) {
  EXPECT_EQ(body_error({"--network-alias", "x"}),
            "network-scoped aliases are only supported for user-defined networks");
  EXPECT_EQ(body_error({"--mac-address", "zz"}), "zz is not a valid mac address");
  EXPECT_EQ(body_error({"--add-host", "foo"}),
            "invalid argument \"foo\" for \"--add-host\" flag: bad format for add-host: \"foo\"");
  EXPECT_EQ(body_error({"--add-host", "foo:bar"}),
            "invalid argument \"foo:bar\" for \"--add-host\" flag: invalid IP address in "
            "add-host: \"bar\"");
  EXPECT_EQ(body_error({"--add-host", "foo:host-gateway"}), "");
  EXPECT_EQ(body_error({"--link", "a:b:c"}),
            "invalid argument \"a:b:c\" for \"--link\" flag: bad format for links: a:b:c");
  EXPECT_EQ(body_error({"--dns", "1.2.3"}),
            "invalid argument \"1.2.3\" for \"--dns\" flag: IP address is not correctly "
            "formatted: 1.2.3");
  EXPECT_EQ(body_error({"--dns-search", "..bad"}),
            "invalid argument \"..bad\" for \"--dns-search\" flag: ..bad is not a valid domain");
  EXPECT_EQ(body_error({"--network", "host", "--network", "mynet"}),
            "conflicting options: cannot attach both user-defined and non-user-defined "
            "network-modes");
  EXPECT_TRUE(is_mac_address("92:D0:c6:0a:29:33"));
  EXPECT_TRUE(is_mac_address("92-d0-c6-0a-29-33"));
  EXPECT_FALSE(is_mac_address("92:d0:c6:0a:29"));
  EXPECT_EQ(validate_ip_address("::ffff:1.2.3.4"), "1.2.3.4");
}

NetworkListOptions list_options(const std::string& format, bool quiet, bool no_trunc) {
  NetworkListOptions o;
  o.format = format;
  o.quiet = quiet;
  o.no_trunc = no_trunc;
  return o;
}

TEST(CliNetwork, ListRows) {
  json nets = json::array({{{"Name", "mynet"},
                            {"Id", "0f0e0d0c0b0a0f0e0d0c0b0a"},
                            {"Driver", "bridge"},
                            {"Scope", "local"},
                            {"Internal", true},
                            {"Labels", {{"a", "b"}, {"c", "d"}}},
                            {"Created", "2024-01-02T03:04:05Z"}},
                           {{"Name", "bridge"},
                            {"Id", "a1b2c3d4e5f6a1b2c3d4e5f6"},
                            {"Driver", "bridge"},
                            {"Scope", "local"},
                            {"Created", "2024-01-02T03:04:05.123456780Z"}}});
  EXPECT_EQ(render_networks(nets, list_options("", false, false)),
            "NETWORK ID     NAME      DRIVER    SCOPE\n"
            "a1b2c3d4e5f6   bridge    bridge    local\n"
            "0f0e0d0c0b0a   mynet     bridge    local\n");
  EXPECT_EQ(render_networks(nets, list_options("", true, false)), "a1b2c3d4e5f6\n0f0e0d0c0b0a\n");
  EXPECT_EQ(render_networks(nets, list_options("{{.ID}} {{.Internal}} {{.Labels}} {{.Label \"a\"}}",
                                               false, true)),
            "a1b2c3d4e5f6a1b2c3d4e5f6 false  \n0f0e0d0c0b0a0f0e0d0c0b0a true a=b,c=d b\n");
  std::string json_lines = render_networks(nets, list_options("json", false, false));
  EXPECT_EQ(json_lines.substr(0, json_lines.find('\n')),
            "{\"CreatedAt\":\"2024-01-02 03:04:05.12345678 +0000 UTC\",\"Driver\":\"bridge\","
            "\"ID\":\"a1b2c3d4e5f6\",\"IPv4\":\"false\",\"IPv6\":\"false\",\"Internal\":\"false\","
            "\"Labels\":\"\",\"Name\":\"bridge\",\"Scope\":\"local\"}");
  EXPECT_EQ(go_time_of_rfc3339("2024-01-02T03:04:05+01:00"), "2024-01-02 03:04:05 +0100 +0100");
}

}  // namespace
}  // namespace berth::cli
