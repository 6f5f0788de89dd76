// apply_config_changes: the Dockerfile instructions `import --change` and `commit --change`
// accept, with Docker's results and wording.
#include "image/config_changes.h"

#include <gtest/gtest.h>

#include "base/error.h"

namespace berth::image {
namespace {

using nlohmann::json;

json apply(const std::vector<std::string>& changes, json config = json::object()) {
  apply_config_changes(config, changes);
  return config;
}

std::string error_of(const std::vector<std::string>& changes) {
  try {
    apply(changes);
  } catch (const InvalidArgument& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ConfigChanges, CmdExecAndShellForms) {
  EXPECT_EQ(apply({R"(CMD ["/bin/echo", "hi there"])"})["Cmd"], json({"/bin/echo", "hi there"}));
  EXPECT_EQ(apply({"CMD echo hi && ls"})["Cmd"], json({"/bin/sh", "-c", "echo hi && ls"}));
  // Not a JSON array of strings: the shell form, as Docker does.
  EXPECT_EQ(apply({"CMD [not json"})["Cmd"], json({"/bin/sh", "-c", "[not json"}));
  EXPECT_EQ(apply({"CMD [1, 2]"})["Cmd"], json({"/bin/sh", "-c", "[1, 2]"}));
  // Instructions are case-insensitive; the last one wins.
  EXPECT_EQ(apply({"cmd a", "Cmd [\"b\"]"})["Cmd"], json({"b"}));
  EXPECT_EQ(apply({R"(CMD [])"})["Cmd"], json::array());
}

TEST(ConfigChanges, Entrypoint) {
  EXPECT_EQ(apply({R"(ENTRYPOINT ["/init", "--flag"])"})["Entrypoint"], json({"/init", "--flag"}));
  EXPECT_EQ(apply({"ENTRYPOINT /init --flag"})["Entrypoint"],
            json({"/bin/sh", "-c", "/init --flag"}));
  json both = apply({R"(ENTRYPOINT ["/init"])", R"(CMD ["x"])"});
  EXPECT_EQ(both["Entrypoint"], json({"/init"}));
  EXPECT_EQ(both["Cmd"], json({"x"}));
}

TEST(ConfigChanges, EnvBothFormsAndOverride) {
  json c = apply({"ENV A=1 B=\"two words\" C='single q'", "ENV LEGACY hello  world"});
  EXPECT_EQ(c["Env"], json({"A=1", "B=two words", "C=single q", "LEGACY=hello  world"}));
  // Overriding keeps the variable's place.
  c = apply({"ENV PATH=/usr/bin", "ENV A=1"}, json{{"Env", {"PATH=/bin", "HOME=/root"}}});
  EXPECT_EQ(c["Env"], json({"PATH=/usr/bin", "HOME=/root", "A=1"}));
  c = apply({"ENV A=1", "ENV A=2", "ENV EMPTY="});
  EXPECT_EQ(c["Env"], json({"A=2", "EMPTY="}));
  c = apply({R"(ENV ESC="a\"b")"});
  EXPECT_EQ(c["Env"], json({"ESC=a\"b"}));
  EXPECT_NE(error_of({"ENV"}).find("ENV requires at least one argument"), std::string::npos);
  EXPECT_NE(error_of({"ENV ONLYKEY"}).find("ENV"), std::string::npos);
  EXPECT_NE(error_of({"ENV A=1 =x"}).find("ENV"), std::string::npos);
}

TEST(ConfigChanges, LabelQuoted) {
  json c = apply({R"(LABEL "com.example.vendor"="ACME Inc" version=1.0 'q k'='v')"});
  EXPECT_EQ(c["Labels"],
            json({{"com.example.vendor", "ACME Inc"}, {"version", "1.0"}, {"q k", "v"}}));
  c = apply({"LABEL a=1", "LABEL a=2 b=3"}, json{{"Labels", {{"keep", "me"}}}});
  EXPECT_EQ(c["Labels"], json({{"keep", "me"}, {"a", "2"}, {"b", "3"}}));
  c = apply({"LABEL legacy some value"});
  EXPECT_EQ(c["Labels"], json({{"legacy", "some value"}}));
}

TEST(ConfigChanges, Expose) {
  json c = apply({"EXPOSE 80 443/udp 9000/tcp", "EXPOSE 132/sctp"});
  EXPECT_EQ(c["ExposedPorts"], json({{"80/tcp", json::object()},
                                     {"443/udp", json::object()},
                                     {"9000/tcp", json::object()},
                                     {"132/sctp", json::object()}}));
  EXPECT_EQ(error_of({"EXPOSE abc"}), "invalid containerPort: abc");
  EXPECT_NE(error_of({"EXPOSE 80/xyz"}).find("80/xyz"), std::string::npos);
  EXPECT_NE(error_of({"EXPOSE /tcp"}).find("/tcp"), std::string::npos);
  EXPECT_NE(error_of({"EXPOSE"}).find("EXPOSE requires at least one argument"), std::string::npos);
}

TEST(ConfigChanges, Volume) {
  json c = apply({R"(VOLUME ["/data", "/with space"])", "VOLUME /a /b"});
  EXPECT_EQ(c["Volumes"], json({{"/data", json::object()},
                                {"/with space", json::object()},
                                {"/a", json::object()},
                                {"/b", json::object()}}));
  EXPECT_NE(error_of({"VOLUME"}).find("VOLUME"), std::string::npos);
}

TEST(ConfigChanges, WorkdirRelativeToPrevious) {
  EXPECT_EQ(apply({"WORKDIR /app"})["WorkingDir"], "/app");
  // filepath.Join in Docker: the result is cleaned.
  EXPECT_EQ(apply({"WORKDIR /app", "WORKDIR src", "WORKDIR ../lib"})["WorkingDir"], "/app/lib");
  EXPECT_EQ(apply({"WORKDIR /app", "WORKDIR src"})["WorkingDir"], "/app/src");
  EXPECT_EQ(apply({"WORKDIR rel"})["WorkingDir"], "/rel");
  EXPECT_EQ(apply({"WORKDIR /app", "WORKDIR ./x/"})["WorkingDir"], "/app/x");
  EXPECT_EQ(apply({"WORKDIR /app", "WORKDIR ../../.."})["WorkingDir"], "/");
  EXPECT_EQ(apply({"WORKDIR sub"}, json{{"WorkingDir", "/base"}})["WorkingDir"], "/base/sub");
  EXPECT_EQ(apply({"WORKDIR /abs"}, json{{"WorkingDir", "/base"}})["WorkingDir"], "/abs");
  EXPECT_EQ(apply({R"(WORKDIR "/quoted dir")"})["WorkingDir"], "/quoted dir");
}

TEST(ConfigChanges, UserStopsignalOnbuildHealthcheck) {
  json c = apply({"USER nobody:nogroup", "STOPSIGNAL SIGQUIT", "ONBUILD RUN make",
                  R"(HEALTHCHECK CMD ["curl", "-f", "http://localhost/"])"});
  EXPECT_EQ(c["User"], "nobody:nogroup");
  EXPECT_EQ(c["StopSignal"], "SIGQUIT");
  EXPECT_EQ(c["OnBuild"], json({"RUN make"}));
  EXPECT_EQ(c["Healthcheck"]["Test"], json({"CMD", "curl", "-f", "http://localhost/"}));
  EXPECT_EQ(apply({"HEALTHCHECK CMD curl -f x"})["Healthcheck"]["Test"],
            json({"CMD-SHELL", "curl -f x"}));
  EXPECT_EQ(apply({"HEALTHCHECK NONE"})["Healthcheck"]["Test"], json({"NONE"}));
  EXPECT_NE(error_of({"USER"}).find("USER requires at least one argument"), std::string::npos);
  EXPECT_NE(error_of({"STOPSIGNAL"}).find("STOPSIGNAL"), std::string::npos);
}

TEST(ConfigChanges, UnknownInstructionIsRefused) {
  // Docker's parser lowercases the instruction before BuildFromConfig names it.
  EXPECT_EQ(error_of({"FOO bar"}), "foo is not a valid change command");
  EXPECT_EQ(error_of({"run make"}), "run is not a valid change command");
  EXPECT_EQ(error_of({"FROM busybox"}), "from is not a valid change command");
  EXPECT_EQ(error_of({"COPY a b"}), "copy is not a valid change command");
  // A refused change leaves the config as it was given... at least the caller sees the error
  // before anything is stored; blank lines are ignored.
  EXPECT_EQ(apply({"", "   "}), json::object());
  json not_object = json::array();
  apply_config_changes(not_object, {"USER x"});
  EXPECT_EQ(not_object, json({{"User", "x"}}));
}

}  // namespace
}  // namespace berth::image
