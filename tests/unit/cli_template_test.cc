#include <gtest/gtest.h>

#include "base/error.h"
#include "cli/formatter.h"
#include "cli/template.h"

namespace berth::cli {
namespace {

using nlohmann::json;

std::string run(const std::string& t, const json& data, TemplateOptions o = {}) {
  return Template::parse(t).execute(data, o);
}

const json kImage = json::parse(R"({
  "Id": "sha256:abc", "Size": 4261574, "Config": {"Cmd": ["sh", "-c", "echo hi"],
  "Labels": {"b": "2", "a": "1"}, "Entrypoint": null}, "RepoTags": ["busybox:latest", "bb:1"]
})");

TEST(CliTemplate, FieldsAndNesting) {
  EXPECT_EQ(run("{{.Id}} {{.Size}}", kImage), "sha256:abc 4261574");
  EXPECT_EQ(run("{{.Config.Cmd}}", kImage), "[sh -c echo hi]");
  EXPECT_EQ(run("{{.Config.Labels}}", kImage), "map[a:1 b:2]");
  EXPECT_EQ(run("{{.Config.Entrypoint}}", kImage), "<nil>");
  EXPECT_EQ(run("{{.Nope}}", kImage), "<no value>");
  EXPECT_THROW(run("{{.Nope}}", kImage, {.strict = true}), Error);
}

TEST(CliTemplate, Functions) {
  EXPECT_EQ(run("{{json .Config.Cmd}}", kImage), R"(["sh","-c","echo hi"])");
  EXPECT_EQ(run("{{join .RepoTags \",\"}}", kImage), "busybox:latest,bb:1");
  EXPECT_EQ(run("{{index .Config.Labels \"a\"}}", kImage), "1");
  EXPECT_EQ(run("{{index .RepoTags 1}}", kImage), "bb:1");
  EXPECT_EQ(run("{{upper .Id}} {{lower \"AbC\"}} {{title \"hello world\"}}", kImage),
            "SHA256:ABC abc Hello World");
  EXPECT_EQ(run("{{printf \"%s=%d|%5s|%-4s|\" .Id .Size \"x\" \"y\"}}", kImage),
            "sha256:abc=4261574|    x|y   |");
  EXPECT_EQ(run("{{.Id | printf \"%q\"}}", kImage), "\"sha256:abc\"");
  EXPECT_EQ(run("{{len .RepoTags}} {{split \"a:b\" \":\"}}", kImage), "2 [a b]");
  EXPECT_EQ(run("{{eq .Size 4261574}} {{ne .Id \"x\"}} {{and 1 0}} {{or 0 \"y\"}}", kImage),
            "true true 0 y");
  EXPECT_EQ(run("{{truncate .Id 6}}|{{pad \"x\" 1 2}}|", kImage), "sha256| x  |");
}

TEST(CliTemplate, ControlFlow) {
  EXPECT_EQ(run("{{range .RepoTags}}[{{.}}]{{end}}", kImage), "[busybox:latest][bb:1]");
  EXPECT_EQ(run("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", kImage),
            "0=busybox:latest 1=bb:1 ");
  EXPECT_EQ(run("{{range $k, $v := .Config.Labels}}{{$k}}:{{$v}};{{end}}", kImage), "a:1;b:2;");
  EXPECT_EQ(run("{{range .Missing}}x{{else}}none{{end}}", kImage), "none");
  EXPECT_EQ(run("{{if .Config.Entrypoint}}a{{else if .Config.Cmd}}b{{else}}c{{end}}", kImage), "b");
  EXPECT_EQ(run("{{with .Config}}{{.Cmd}}{{end}}", kImage), "[sh -c echo hi]");
  EXPECT_EQ(run("{{$x := .Id}}{{$x}}-{{$.Size}}", kImage), "sha256:abc-4261574");
  EXPECT_EQ(run("a  {{- .Id -}}  b{{/* comment */}}", kImage), "asha256:abcb");
  EXPECT_EQ(run("{{(index .RepoTags 0) | upper}}", kImage), "BUSYBOX:LATEST");
  EXPECT_EQ(run("{{json .}}", json{{"b", "<x>"}, {"a", 1}}), R"({"a":1,"b":"<x>"})");
}

TEST(CliTemplate, ParseErrors) {
  EXPECT_THROW(Template::parse("{{nosuchfunc .X}}"), Error);
  EXPECT_THROW(Template::parse("{{.X"), Error);
  EXPECT_THROW(Template::parse("{{if .X}}a"), Error);
  EXPECT_THROW(Template::parse("{{end}}"), Error);
}

TEST(CliTemplate, TableFormatsLikeDocker) {
  ListFormat f{"",
               "table {{.Repository}}\t{{.Tag}}\t{{.ID}}",
               {{"Repository", "REPOSITORY"}, {"Tag", "TAG"}, {"ID", "IMAGE ID"}}};
  std::vector<json> rows = {{{"Repository", "busybox"}, {"Tag", "latest"}, {"ID", "0123456789ab"}},
                            {{"Repository", "<none>"}, {"Tag", "<none>"}, {"ID", "ba9876543210"}}};
  EXPECT_EQ(render_list(f, rows),
            "REPOSITORY   TAG       IMAGE ID\n"
            "busybox      latest    0123456789ab\n"
            "<none>       <none>    ba9876543210\n");
  f.format = "table {{.Repository}}\\t{{upper .Tag}}";
  EXPECT_EQ(render_list(f, rows), "REPOSITORY   TAG\nbusybox      LATEST\n<none>       <NONE>\n");
  f.format = "{{.ID}}";
  EXPECT_EQ(render_list(f, rows), "0123456789ab\nba9876543210\n");
  f.format = "json";
  EXPECT_EQ(render_list(f, {rows[0]}),
            "{\"ID\":\"0123456789ab\",\"Repository\":\"busybox\",\"Tag\":\"latest\"}\n");
  f.format = "table {{.Nope}}";
  EXPECT_THROW(render_list(f, rows), Error);
}

}  // namespace
}  // namespace berth::cli
