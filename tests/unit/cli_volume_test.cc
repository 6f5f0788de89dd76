#include <gtest/gtest.h>
#include <unistd.h>

#include <climits>

#include "cli/container_opts.h"
#include "cli/volume_list.h"

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

std::string cwd() {
  char buf[PATH_MAX];
  return ::getcwd(buf, sizeof buf) ? buf : "";
}

std::string flag_error(const std::vector<std::string>& flags) {
  try {
    body_for(flags);
  } catch (const FlagError& e) {
    return e.what();
  }
  return "";
}

TEST(CliVolume, VolumeFlagSplitsBindsFromAnonymousVolumes) {
  json b = body_for({"-v", "/host:/ctr", "-v", "/anon", "-v", "named:/data:ro", "-v", "/host:/ctr",
                     "-v", "/a:/b:bogus", "-v", "ab"});
  // A source makes a bind (a host path or a volume name); a lone path is anonymous.
  EXPECT_EQ(b["HostConfig"]["Binds"], json({"/host:/ctr", "named:/data:ro", "/a:/b:bogus"}));
  EXPECT_EQ(b["Volumes"], json({{"/anon", json::object()}, {"ab", json::object()}}));
  // A relative target is the daemon's to refuse, in its words, as docker's CLI leaves it.
  EXPECT_EQ(body_for({"-v", "rel"})["Volumes"], json({{"rel", json::object()}}));
  EXPECT_TRUE(body_for({})["Volumes"].is_null());
  EXPECT_TRUE(body_for({})["HostConfig"]["Binds"].is_null());
}

TEST(CliVolume, DottedHostPathsAreMadeAbsolute) {
  std::string here = cwd();
  json b = body_for({"-v", "./data:/d", "-v", "../up/./x/:/u:ro", "-v", ".:/h", "-v", "~/x:/t"});
  std::string parent = here.substr(0, here.rfind('/'));
  EXPECT_EQ(b["HostConfig"]["Binds"],
            json({here + "/data:/d", (parent.empty() ? "" : parent) + "/up/x:/u:ro", here + ":/h",
                  "~/x:/t"}));
  json m = body_for({"--mount", "type=bind,src=./s,dst=/d"})["HostConfig"]["Mounts"][0];
  EXPECT_EQ(m["Source"], here + "/s");
}

TEST(CliVolume, VolumeSpecErrorsInDockersWords) {
  EXPECT_EQ(flag_error({"-v", "/a::/b"}), "invalid spec: /a::/b: empty section between colons");
  EXPECT_EQ(flag_error({"-v", "/a:/b:ro:x"}), "invalid spec: /a:/b:ro:x: too many colons");
  EXPECT_EQ(flag_error({"-v", ""}), "invalid empty volume spec");
}

TEST(CliVolume, TmpfsVolumesFromAndDriver) {
  json h = body_for({"--tmpfs", "/run:rw,size=64m", "--tmpfs", "/tmp", "--volumes-from", "vc:ro",
                     "--volumes-from", "other", "--volume-driver", "local"})["HostConfig"];
  EXPECT_EQ(h["Tmpfs"], json({{"/run", "rw,size=64m"}, {"/tmp", ""}}));
  EXPECT_EQ(h["VolumesFrom"], json({"vc:ro", "other"}));
  EXPECT_EQ(h["VolumeDriver"], "local");
  json none = body_for({})["HostConfig"];
  EXPECT_FALSE(none.contains("Tmpfs"));
  EXPECT_TRUE(none["VolumesFrom"].is_null());
}

TEST(CliVolume, MountOptionsAsDockersMountOpt) {
  EXPECT_EQ(parse_mount("type=volume,src=v,dst=/d,volume-nocopy,volume-subpath=sub,"
                        "volume-opt=type=tmpfs,volume-label=a=b"),
            json({{"Type", "volume"},
                  {"Source", "v"},
                  {"Target", "/d"},
                  {"VolumeOptions",
                   {{"NoCopy", true},
                    {"Subpath", "sub"},
                    {"Labels", {{"a", "b"}}},
                    {"DriverConfig", {{"Options", {{"type", "tmpfs"}}}}}}}}));
  // Any volume-* option brings an (empty) DriverConfig, as docker's does.
  EXPECT_EQ(parse_mount("target=/d,volume-nocopy=false"),
            json({{"Type", "volume"},
                  {"Target", "/d"},
                  {"VolumeOptions", {{"DriverConfig", json::object()}}}}));
  EXPECT_EQ(parse_mount("type=bind,src=/a,dst=/b,ro=true,bind-propagation=RSHARED,"
                        "bind-recursive=disabled"),
            json({{"Type", "bind"},
                  {"Source", "/a"},
                  {"Target", "/b"},
                  {"ReadOnly", true},
                  {"BindOptions", {{"Propagation", "rshared"}, {"NonRecursive", true}}}}));
  EXPECT_EQ(parse_mount("type=tmpfs,dst=/t,tmpfs-size=1m,tmpfs-mode=1770"),
            json({{"Type", "tmpfs"},
                  {"Target", "/t"},
                  {"TmpfsOptions", {{"SizeBytes", 1048576}, {"Mode", 01770}}}}));
  // Quoted CSV fields keep their commas.
  EXPECT_EQ(parse_mount("type=bind,\"src=/a,b\",dst=/c")["Source"], "/a,b");
}

std::string mount_error(const std::string& spec) {
  try {
    parse_mount(spec);
  } catch (const FlagError& e) {
    return e.what();
  }
  return "";
}

TEST(CliVolume, MountErrorsInDockersWords) {
  auto flag = [](const std::string& v, const std::string& why) {
    return "invalid argument \"" + v + "\" for \"--mount\" flag: " + why;
  };
  EXPECT_EQ(mount_error("type=bind,src=/a"), flag("type=bind,src=/a", "target is required"));
  EXPECT_EQ(mount_error("type=bind,dst=/a,volume-nocopy"),
            flag("type=bind,dst=/a,volume-nocopy",
                 "cannot mix 'volume-*' options with mount type 'bind'"));
  EXPECT_EQ(mount_error("dst=/a,tmpfs-size=1m"),
            flag("dst=/a,tmpfs-size=1m", "cannot mix 'tmpfs-*' options with mount type 'volume'"));
  EXPECT_EQ(mount_error("dst=/a,bogus"),
            flag("dst=/a,bogus", "invalid field 'bogus' must be a key=value pair"));
  EXPECT_EQ(mount_error("dst=/a,x=1"), flag("dst=/a,x=1", "unexpected key 'x' in 'x=1'"));
  EXPECT_EQ(mount_error("dst=/a,ro=maybe"), flag("dst=/a,ro=maybe", "invalid value for ro: maybe"));
  EXPECT_EQ(mount_error("type=tmpfs,dst=/a,tmpfs-mode=9"),
            flag("type=tmpfs,dst=/a,tmpfs-mode=9", "invalid value for tmpfs-mode: 9"));
  EXPECT_EQ(mount_error("type=bind,src=/a,dst=/b,bind-recursive=readonly"),
            flag("type=bind,src=/a,dst=/b,bind-recursive=readonly",
                 "option 'bind-recursive=readonly' requires 'readonly' to be specified in "
                 "conjunction"));
  EXPECT_EQ(mount_error(""), flag("", "EOF"));
}

json volume(const std::string& name, const std::string& driver, json labels = nullptr) {
  return {{"Name", name}, {"Driver", driver}, {"Scope", "local"}, {"Labels", labels}};
}

TEST(CliVolume, ListTableQuietAndTemplates) {
  json answer = {
      {"Volumes",
       {volume("volume", "local"), volume("foo", "bar"), volume("baz", "local", {{"foo", "bar"}}),
        volume("vol10", "local"), volume("vol9", "local")}},
      {"Warnings", nullptr}};
  EXPECT_EQ(render_volumes(answer, {}),
            "DRIVER    VOLUME NAME\n"
            "local     baz\n"
            "bar       foo\n"
            "local     vol9\n"
            "local     vol10\n"
            "local     volume\n");
  EXPECT_EQ(render_volumes(answer, {.format = "", .quiet = true}),
            "baz\nfoo\nvol9\nvol10\nvolume\n");
  EXPECT_EQ(render_volumes({{"Volumes", {volume("baz", "local", {{"foo", "bar"}})}}},
                           {.format = "{{.Name}} {{.Driver}} {{.Labels}} {{.Label \"foo\"}} "
                                      "{{.Links}} {{.Size}} {{.Mountpoint}}|"}),
            "baz local foo=bar bar N/A N/A |\n");
  EXPECT_EQ(render_volumes({{"Volumes", json::array()}}, {}), "DRIVER    VOLUME NAME\n");
  EXPECT_EQ(render_volumes({{"Volumes", nullptr}}, {.format = "", .quiet = true}), "");
  // system df's answer carries usage; so may a daemon's list.
  json used = volume("u", "local");
  used["UsageData"] = {{"RefCount", 2}, {"Size", 2048}};
  EXPECT_EQ(render_volumes({{"Volumes", {used}}}, {.format = "{{.Links}} {{.Size}}"}),
            "2 2.048kB\n");
}

TEST(CliVolume, ListJsonHasDockersFields) {
  json out = json::parse(render_volumes({{"Volumes", {volume("v", "local")}}}, {.format = "json"}));
  EXPECT_EQ(out, json({{"Availability", "N/A"},
                       {"Driver", "local"},
                       {"Group", "N/A"},
                       {"Labels", ""},
                       {"Links", "N/A"},
                       {"Mountpoint", ""},
                       {"Name", "v"},
                       {"Scope", "local"},
                       {"Size", "N/A"},
                       {"Status", "N/A"}}));
}

TEST(CliVolume, InspectKeepsTheApiTypesFields) {
  json v = {{"Name", "v"},
            {"Driver", "local"},
            {"Mountpoint", "/var/lib/berth/volumes/v/_data"},
            {"CreatedAt", "2026-12-07T10:00:00Z"},
            {"Labels", json::object()},
            {"Scope", "local"},
            {"Extra", 1}};
  EXPECT_EQ(volume_inspect_view(v).dump(),
            "{\"CreatedAt\":\"2026-12-07T10:00:00Z\",\"Driver\":\"local\",\"Labels\":{},"
            "\"Mountpoint\":\"/var/lib/berth/volumes/v/_data\",\"Name\":\"v\",\"Options\":null,"
            "\"Scope\":\"local\"}");
}

}  // namespace
}  // namespace berth::cli
