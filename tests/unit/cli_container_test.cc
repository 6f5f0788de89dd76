#include <gtest/gtest.h>

#include "cli/container_attach.h"
#include "cli/container_format.h"
#include "cli/container_opts.h"
#include "cli/terminal.h"
#include "client/client.h"

namespace berth::cli {
namespace {

using nlohmann::json;

json body_for(const std::vector<std::string>& flags, const std::vector<std::string>& cmd = {}) {
  CLI::App app;
  app.set_help_flag();  // -h is --hostname here, as in docker
  ContainerOptions o;
  add_container_flags(app, o);
  std::vector<std::string> args(flags.rbegin(), flags.rend());  // CLI11 takes them reversed
  app.parse(args);
  return create_body(o, "busybox", cmd);
}

TEST(CliContainer, FlagsMapToCreateBody) {
  json b = body_for({"-i",
                     "-t",
                     "--rm",
                     "-e",
                     "A=1",
                     "-w",
                     "/w",
                     "-u",
                     "1:2",
                     "-h",
                     "host",
                     "-l",
                     "k=v",
                     "--stop-timeout",
                     "7",
                     "--init",
                     "--privileged",
                     "--read-only",
                     "--cap-add",
                     "NET_ADMIN",
                     "-m",
                     "512m",
                     "--cpus",
                     "1.5",
                     "--pids-limit",
                     "10",
                     "--ulimit",
                     "nofile=1024:2048",
                     "--network",
                     "host",
                     "-v",
                     "/src:/dst:ro",
                     "-v",
                     "/anon",
                     "--shm-size",
                     "64m",
                     "--sysctl",
                     "net.ipv4.ip_forward=1",
                     "--log-opt",
                     "max-size=1m"},
                    {"ls", "-l"});
  EXPECT_EQ(b["Image"], "busybox");
  EXPECT_EQ(b["Cmd"], json({"ls", "-l"}));
  EXPECT_TRUE(b["Tty"]);
  EXPECT_TRUE(b["OpenStdin"]);
  EXPECT_TRUE(b["AttachStdin"]);
  EXPECT_TRUE(b["StdinOnce"]);
  EXPECT_EQ(b["Env"], json({"A=1"}));
  EXPECT_EQ(b["WorkingDir"], "/w");
  EXPECT_EQ(b["User"], "1:2");
  EXPECT_EQ(b["Hostname"], "host");
  EXPECT_EQ(b["Labels"]["k"], "v");
  EXPECT_EQ(b["StopTimeout"], 7);
  EXPECT_EQ(b["Volumes"], json({{"/anon", json::object()}}));
  const json& h = b["HostConfig"];
  EXPECT_TRUE(h["AutoRemove"]);
  EXPECT_TRUE(h["Init"]);
  EXPECT_TRUE(h["Privileged"]);
  EXPECT_TRUE(h["ReadonlyRootfs"]);
  EXPECT_EQ(h["CapAdd"], json({"NET_ADMIN"}));
  EXPECT_EQ(h["Memory"], 512 * 1024 * 1024);
  EXPECT_EQ(h["NanoCpus"], 1500000000);
  EXPECT_EQ(h["PidsLimit"], 10);
  EXPECT_EQ(h["Ulimits"][0], json({{"Name", "nofile"}, {"Soft", 1024}, {"Hard", 2048}}));
  EXPECT_EQ(h["NetworkMode"], "host");
  EXPECT_EQ(h["Binds"], json({"/src:/dst:ro"}));
  EXPECT_EQ(h["ShmSize"], 64 * 1024 * 1024);
  EXPECT_EQ(h["Sysctls"]["net.ipv4.ip_forward"], "1");
  EXPECT_EQ(h["LogConfig"]["Config"]["max-size"], "1m");
  EXPECT_EQ(h["RestartPolicy"], json({{"Name", "no"}, {"MaximumRetryCount", 0}}));
}

TEST(CliContainer, DefaultsAndResets) {
  json b = body_for({"--entrypoint", ""});
  EXPECT_EQ(b["Entrypoint"], json({""}));
  EXPECT_TRUE(b["Cmd"].is_null());
  EXPECT_TRUE(b["AttachStdout"]);
  EXPECT_FALSE(b["AttachStdin"]);
  EXPECT_FALSE(b.contains("StopTimeout"));
  EXPECT_FALSE(b["HostConfig"].contains("Init"));
  EXPECT_EQ(b["HostConfig"]["NetworkMode"], "default");
  json a = body_for({"-a", "stderr"});
  EXPECT_FALSE(a["AttachStdout"]);
  EXPECT_TRUE(a["AttachStderr"]);
}

TEST(CliContainer, RestartPolicies) {
  EXPECT_EQ(parse_restart_policy("on-failure:3"),
            json({{"Name", "on-failure"}, {"MaximumRetryCount", 3}}));
  EXPECT_EQ(parse_restart_policy("always")["Name"], "always");
  EXPECT_THROW(parse_restart_policy(":3"), FlagError);
  EXPECT_THROW(parse_restart_policy("on-failure:x"), FlagError);
  EXPECT_THROW(body_for({"--rm", "--restart", "always"}), FlagError);
}

TEST(CliContainer, SizesCpusUlimits) {
  EXPECT_EQ(ram_in_bytes("100"), 100);
  EXPECT_EQ(ram_in_bytes("1k"), 1024);
  EXPECT_EQ(ram_in_bytes("1.5GB"), 1610612736);
  EXPECT_THROW(ram_in_bytes("12x"), Error);
  EXPECT_EQ(nano_cpus("0.5"), 500000000);
  EXPECT_THROW(nano_cpus("abc"), Error);
  EXPECT_EQ(parse_ulimit("nproc=10")["Hard"], 10);
  EXPECT_THROW(parse_ulimit("nofile=20:10"), Error);
  EXPECT_THROW(parse_ulimit("bogus=1"), Error);
}

TEST(CliContainer, PublishAndMount) {
  json exposed = json::object(), bindings = json::object();
  parse_publish("127.0.0.1:8080:80/udp", exposed, bindings);
  parse_publish("9000-9001:90-91", exposed, bindings);
  EXPECT_TRUE(exposed.contains("80/udp"));
  EXPECT_EQ(bindings["80/udp"][0], json({{"HostIp", "127.0.0.1"}, {"HostPort", "8080"}}));
  EXPECT_EQ(bindings["91/tcp"][0]["HostPort"], "9001");
  json m = parse_mount("type=bind,src=/a,dst=/b,readonly");
  EXPECT_EQ(m, json({{"Type", "bind"}, {"Source", "/a"}, {"Target", "/b"}, {"ReadOnly", true}}));
  EXPECT_THROW(parse_mount("type=bind,src=/a"), FlagError);
}

TEST(CliContainer, StatusStrings) {
  const int64_t now = 1'700'000'000'000'000'000;  // 2023-11-14T22:13:20Z
  json running = {{"Running", true}, {"StartedAt", "2023-11-14T22:13:18Z"}};
  EXPECT_EQ(container_status(running, now), "Up 2 seconds");
  running["Paused"] = true;
  EXPECT_EQ(container_status(running, now), "Up 2 seconds (Paused)");
  json exited = {{"Running", false},
                 {"ExitCode", 3},
                 {"StartedAt", "2023-11-14T22:13:10Z"},
                 {"FinishedAt", "2023-11-14T22:13:17Z"}};
  EXPECT_EQ(container_status(exited, now), "Exited (3) 3 seconds ago");
  json created = {{"Running", false}, {"StartedAt", "0001-01-01T00:00:00Z"}};
  EXPECT_EQ(container_status(created, now), "Created");
}

TEST(CliContainer, PsColumns) {
  EXPECT_EQ(go_quote("sh -c \"x\"\n"), "\"sh -c \\\"x\\\"\\n\"");
  json c = {{"Id", std::string(64, 'a')},
            {"Names", {"/web"}},
            {"Image", "busybox"},
            {"Command", "sh -c 'echo hello; sleep 1000'"},
            {"Ports",
             {{{"IP", "0.0.0.0"}, {"PrivatePort", 80}, {"PublicPort", 8080}, {"Type", "tcp"}},
              {{"IP", "0.0.0.0"}, {"PrivatePort", 81}, {"PublicPort", 8081}, {"Type", "tcp"}},
              {{"PrivatePort", 443}, {"Type", "tcp"}}}}};
  json row = ps_row(c, true);
  EXPECT_EQ(row["ID"], std::string(12, 'a'));
  EXPECT_EQ(row["Names"], "web");
  EXPECT_EQ(row["Command"], "\"sh -c 'echo hello; …\"");
  EXPECT_EQ(row["Ports"], "443/tcp, 0.0.0.0:8080-8081->80-81/tcp");
}

TEST(CliContainer, DemuxesFramesAcrossChunks) {
  std::string out, err;
  client::StdDemuxer d([&](int s, std::string_view v) { (s == 1 ? out : err).append(v); });
  std::string frames = std::string("\x01\0\0\0\0\0\0\x05hello", 13) + std::string(
                                                                          "\x02\0\0\0\0\0\0\x03"
                                                                          "err",
                                                                          11);
  for (char c : frames) d.feed(std::string_view(&c, 1));
  EXPECT_EQ(out, "hello");
  EXPECT_EQ(err, "err");
  EXPECT_FALSE(d.partial());
}

TEST(CliContainer, DetachKeys) {
  EXPECT_EQ(parse_detach_keys("ctrl-p,ctrl-q"), "\x10\x11");
  EXPECT_EQ(parse_detach_keys("a,ctrl-@"), std::string("a\0", 2));
  EXPECT_THROW(parse_detach_keys("ctrl-1"), Error);
  EscapeProxy p("\x10\x11");
  bool detach = false;
  EXPECT_EQ(p.filter("ab\x10", detach), "ab");
  EXPECT_FALSE(detach);
  EXPECT_EQ(p.filter("c", detach),
            "\x10"
            "c");
  EXPECT_EQ(p.filter("\x10\x11", detach), "");
  EXPECT_TRUE(detach);
}

TEST(CliContainer, StartErrorStatuses) {
  EXPECT_EQ(start_error_status("exec: \"x\": executable file not found in $PATH"), 127);
  EXPECT_EQ(start_error_status("open /x: no such file or directory"), 127);
  EXPECT_EQ(start_error_status("exec /x: permission denied"), 126);
  EXPECT_EQ(start_error_status("No such image: x"), 125);
}

}  // namespace
}  // namespace berth::cli
