// The builder over a fake step runner: the configs and history each instruction makes, and
// the cache keys (a hit when nothing changed, a miss when a source or a build arg did).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <map>

#include "base/error.h"
#include "base/fs.h"
#include "build/build.h"
#include "support/temp_dir.h"

namespace berth::build {
namespace {

using nlohmann::json;

class FakeRunner : public StepRunner {
 public:
  explicit FakeRunner(const std::string& root) : root_(root) {
    images_["sha256:base"] = json{{"Env", {"PATH=/bin"}}, {"Cmd", {"sh"}}};
  }
  ImageRef image(const std::string& ref) override {
    if (ref != "busybox") throw NotFound("No such image: " + ref);
    return get("sha256:base");
  }
  ImageRef get(const std::string& id) override { return ImageRef{id, images_.at(id)}; }
  std::string run(const RunStep& step) override {
    runs.push_back(step.config["Cmd"].back().get<std::string>());
    history.push_back(step.created_by);
    return add(step.image_config);
  }
  std::string copy(const ImageRef&, const json& config, const std::string& created_by,
                   const RootFn& write, const std::function<void(const std::string&)>&) override {
    std::string dir = root_ + "/snap" + std::to_string(images_.size());
    mkdir_p(dir);
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    write(fd);
    ::close(fd);
    history.push_back(created_by);
    snapshots.push_back(dir);
    return add(config);
  }
  std::string commit_config(const ImageRef&, const json& config,
                            const std::string& created_by) override {
    history.push_back(created_by);
    return add(config);
  }
  void with_image_root(const std::string&, const RootFn&) override {
    throw InvalidArgument("not in this test");
  }
  std::optional<std::string> cached(const std::string& key) override {
    auto it = cache_.find(key);
    if (it == cache_.end()) return std::nullopt;
    return it->second;
  }
  void remember(const std::string& key, const std::string& id) override { cache_[key] = id; }

  std::vector<std::string> runs, history, snapshots;

 private:
  std::string add(const json& config) {
    std::string id = "sha256:" + std::to_string(images_.size());
    images_[id] = config;
    return id;
  }
  std::string root_;
  std::map<std::string, json> images_;
  std::map<std::string, std::string> cache_;
};

struct Built {
  std::string id, output;
};

Built build(FakeRunner& r, const std::string& ctx, const std::string& dockerfile,
            std::map<std::string, std::string> args = {}) {
  BuildOptions o;
  o.context_dir = ctx;
  o.dockerfile_text = dockerfile;
  o.build_args = std::move(args);
  Built b;
  b.id = run_build(o, r, [&](const std::string& s) { b.output += s; });
  return b;
}

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) n++;
  return n;
}

const char* kDockerfile =
    "FROM busybox\n"
    "ARG V=1\n"
    "ENV HOME=/home/app\n"
    "WORKDIR app\n"
    "COPY src ./\n"
    "RUN make $V\n"
    "ENTRYPOINT [\"/app/run\"]\n";

TEST(BuildBuilder, ConfigHistoryAndCache) {
  berth::test::TempDir tmp("build-builder");
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx + "/src");
  write_file(ctx + "/src/main.c", "int main;", O_CREAT);
  FakeRunner r(tmp.path());
  Built first = build(r, ctx, kDockerfile);
  EXPECT_NE(first.output.find("Step 1/7 : FROM busybox\n ---> base"), std::string::npos);
  EXPECT_NE(first.output.find("Step 6/7 : RUN make $V\n"), std::string::npos);
  EXPECT_EQ(r.runs, std::vector<std::string>{"make $V"});
  ASSERT_EQ(r.history.size(), 6u);
  EXPECT_EQ(r.history[0], "/bin/sh -c #(nop)  ARG V=1");
  EXPECT_EQ(r.history[2], "/bin/sh -c #(nop)  WORKDIR /app");
  EXPECT_EQ(r.history[3].substr(0, 27), "/bin/sh -c #(nop) COPY dir:");
  EXPECT_EQ(r.history[3].substr(r.history[3].size() - 10), " in /app/ ");
  EXPECT_EQ(r.history[4], "|1 V=1 /bin/sh -c make $V");
  EXPECT_EQ(r.history[5], "/bin/sh -c #(nop)  ENTRYPOINT [\"/app/run\"]");
  ImageRef img = r.get(first.id);
  EXPECT_EQ(img.config["Entrypoint"], json({"/app/run"}));
  EXPECT_TRUE(img.config["Cmd"].is_null()) << "ENTRYPOINT resets the inherited CMD";
  EXPECT_EQ(img.config["WorkingDir"], "/app");
  EXPECT_TRUE(path_exists(r.snapshots.back() + "/app/main.c"));

  Built again = build(r, ctx, kDockerfile);
  EXPECT_EQ(again.id, first.id);
  EXPECT_EQ(count(again.output, " ---> Using cache\n"), 6u);
  EXPECT_EQ(r.runs.size(), 1u);

  Built other_arg = build(r, ctx, kDockerfile, {{"V", "2"}});
  EXPECT_EQ(count(other_arg.output, " ---> Using cache\n"), 4u) << other_arg.output;
  EXPECT_EQ(r.history.back(), "/bin/sh -c #(nop)  ENTRYPOINT [\"/app/run\"]");
  EXPECT_EQ(r.runs.back(), "make $V");

  write_file(ctx + "/src/main.c", "int main2;", O_TRUNC);
  Built changed = build(r, ctx, kDockerfile);
  EXPECT_EQ(count(changed.output, " ---> Using cache\n"), 3u) << changed.output;
  EXPECT_NE(changed.id, first.id);
}

TEST(BuildBuilder, UnusedArgsTargetsAndErrors) {
  berth::test::TempDir tmp("build-builder2");
  FakeRunner r(tmp.path());
  Built b = build(r, tmp.path(), "FROM busybox AS one\nFROM one\nLABEL a=b\n",
                  {{"UNUSED", "x"}, {"HTTP_PROXY", "p"}});
  EXPECT_NE(b.output.find("[Warning] One or more build-args [UNUSED] were not consumed"),
            std::string::npos);
  BuildOptions o;
  o.context_dir = tmp.path();
  o.dockerfile_text = "FROM busybox AS one\nCMD x\nFROM one\n";
  o.target = "one";
  std::string out;
  std::string id = run_build(o, r, [&](const std::string& s) { out += s; });
  EXPECT_NE(out.find("Step 2/2 : CMD x"), std::string::npos) << out;
  EXPECT_EQ(r.get(id).config["Cmd"], json({"/bin/sh", "-c", "x"}));
  o.target = "nope";
  EXPECT_THROW(run_build(o, r, [](const std::string&) {}), InvalidArgument);
  o.target = "";
  o.dockerfile_text = "FROM nosuch\n";
  EXPECT_THROW(run_build(o, r, [](const std::string&) {}), NotFound);
  o.dockerfile_text = "FROM busybox\nCOPY ../x /\n";
  try {
    run_build(o, r, [](const std::string&) {});
    FAIL();
  } catch (const InvalidArgument& e) {
    EXPECT_STREQ(e.what(), "COPY failed: forbidden path outside the build context: ../x ()");
  }
}

}  // namespace
}  // namespace berth::build
