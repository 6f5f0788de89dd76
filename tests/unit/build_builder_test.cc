// The builder over a fake step runner: the configs and history each instruction makes, and
// the cache keys (a hit when nothing changed, a miss when a source or a build arg did).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
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
    authors.push_back(step.author);
    run_steps.push_back(step);
    return add(step.image_config);
  }
  std::string copy(const ImageRef&, const json& config, const std::string& created_by,
                   const std::string& author, bool independent, const RootFn& write,
                   const std::function<void(const std::string&)>&) override {
    independents.push_back(independent);
    std::string dir = root_ + "/snap" + std::to_string(images_.size());
    mkdir_p(dir);
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    write(fd);
    ::close(fd);
    history.push_back(created_by);
    authors.push_back(author);
    snapshots.push_back(dir);
    return add(config);
  }
  std::string commit_config(const ImageRef&, const json& config, const std::string& created_by,
                            const std::string& author) override {
    history.push_back(created_by);
    authors.push_back(author);
    return add(config);
  }
  std::string reuse_layer(const ImageRef&, const std::string& layer_of, const json& config,
                          const std::string& created_by, const std::string&) override {
    reused.push_back(layer_of);
    history.push_back(created_by);
    return add(config);
  }
  // Every image's files: one directory the test fills.
  void with_image_root(const std::string&, const RootFn& fn) override {
    std::string dir = root_ + "/image-root";
    mkdir_p(dir);
    int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    fn(fd);
    ::close(fd);
  }
  std::optional<std::string> cached(const std::string& key) override {
    auto it = cache_.find(key);
    if (it == cache_.end()) return std::nullopt;
    return it->second;
  }
  void remember(const std::string& key, const std::string& id) override { cache_[key] = id; }

  std::vector<std::string> runs, history, snapshots, authors;
  std::vector<RunStep> run_steps;
  std::vector<bool> independents;
  std::vector<std::string> reused;

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
  o.scratch_dir = ctx + ".scratch";
  o.cache_mount_dir = ctx + ".cache";
  mkdir_p(o.scratch_dir);
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

TEST(BuildBuilder, HeredocsRunAsBuildKitDoes) {
  berth::test::TempDir tmp("build-heredoc");
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx);
  FakeRunner r(tmp.path());
  build(r, ctx,
        "FROM busybox\n"
        "RUN <<EOF\n"
        "echo one\n"
        "# not a comment of the Dockerfile\n"
        "echo two\n"
        "EOF\n"
        "RUN <<-EOF bash\n"
        "\techo tabbed $HOME\n"
        "\tEOF\n"
        "RUN <<EOF\n"
        "#!/usr/bin/env python3\n"
        "print('hi')\n"
        "EOF\n"
        "RUN cat <<A >/a && cat <<\"B\" >/b\n"
        "x $V\n"
        "A\n"
        "y $V\n"
        "B\n"
        "CMD [\"sh\"]\n");
  ASSERT_EQ(r.runs.size(), 4u);
  EXPECT_EQ(r.runs[0], "echo one\n# not a comment of the Dockerfile\necho two\n");
  EXPECT_EQ(r.runs[1], "<<-EOF bash\necho tabbed $HOME\nEOF");
  EXPECT_EQ(r.runs[2], "/dev/pipes/EOF");
  ASSERT_EQ(r.run_steps[2].mounts.size(), 1u);
  const RunMount& m = r.run_steps[2].mounts[0];
  EXPECT_EQ(m.target, "/dev/pipes");
  EXPECT_TRUE(m.read_only);
  EXPECT_EQ(read_file(m.source + "/EOF"), "#!/usr/bin/env python3\nprint('hi')\n");
  struct stat st {};
  ASSERT_EQ(::stat((m.source + "/EOF").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0755u);
  EXPECT_EQ(r.runs[3], "cat <<A >/a && cat <<\"B\" >/b\nx $V\nA\ny $V\nB");
  EXPECT_EQ(r.history.back(), "/bin/sh -c #(nop)  CMD [\"sh\"]");
}

TEST(BuildBuilder, HeredocFilesAndMaintainer) {
  berth::test::TempDir tmp("build-heredoc-copy");
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx);
  write_file(ctx + "/plain", "p", O_CREAT);
  FakeRunner r(tmp.path());
  Built b = build(r, ctx,
                  "FROM busybox\n"
                  "ARG WHO=world\n"
                  "COPY <<EOF /etc/greeting\n"
                  "hello \"$WHO\" \\$x\n"
                  "EOF\n"
                  "MAINTAINER Jane <jane@example.com>\n"
                  "COPY <<one <<\"two\" plain /docs/\n"
                  "1 $WHO\n"
                  "one\n"
                  "2 $WHO\n"
                  "two\n"
                  "COPY --chmod=600 <<-EOF /tabbed\n"
                  "\t\tindented\n"
                  "\tEOF\n");
  ASSERT_EQ(r.snapshots.size(), 3u);
  EXPECT_EQ(read_file(r.snapshots[0] + "/etc/greeting"), "hello \"world\" \\$x\n");
  struct stat st {};
  ASSERT_EQ(::stat((r.snapshots[0] + "/etc/greeting").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(read_file(r.snapshots[1] + "/docs/one"), "1 world\n");
  EXPECT_EQ(read_file(r.snapshots[1] + "/docs/two"), "2 $WHO\n") << "a quoted delimiter";
  EXPECT_EQ(read_file(r.snapshots[1] + "/docs/plain"), "p");
  EXPECT_EQ(read_file(r.snapshots[2] + "/tabbed"), "indented\n");
  ASSERT_EQ(::stat((r.snapshots[2] + "/tabbed").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  // The Author from MAINTAINER on: not before it.
  ASSERT_EQ(r.authors.size(), 5u);
  EXPECT_EQ(r.authors[1], "");
  EXPECT_EQ(r.authors[2], "Jane <jane@example.com>");
  EXPECT_EQ(r.authors[4], "Jane <jane@example.com>");
  // The content is in the cache key: a changed document misses.
  Built same = build(r, ctx, "FROM busybox\nCOPY <<EOF /x\na\nEOF\n");
  Built other = build(r, ctx, "FROM busybox\nCOPY <<EOF /x\nb\nEOF\n");
  EXPECT_NE(same.id, other.id);
  EXPECT_EQ(count(other.output, "Using cache"), 0u);
}

TEST(BuildBuilder, CopyExcludeParentsAndLink) {
  berth::test::TempDir tmp("build-copy-flags");
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx + "/dir/sub");
  mkdir_p(ctx + "/x/y");
  for (auto f : {"dir/a.txt", "dir/b.md", "dir/sub/c.txt", "dir/sub/d.md", "x/y/z.txt"})
    write_file(ctx + "/" + f, f, O_CREAT);
  FakeRunner r(tmp.path());
  const std::string df =
      "FROM busybox\n"
      "COPY --exclude=*.md --exclude=sub/c.txt dir /e/\n"
      "COPY --exclude=*.md dir/* /w/\n"
      "COPY --parents x/y/z.txt dir/sub /p/\n"
      "COPY --parents ./x/./y/z.txt /q/\n"
      "COPY --link dir /l/\n";
  build(r, ctx, df);
  ASSERT_EQ(r.snapshots.size(), 5u);
  const std::string& e = r.snapshots[0];
  EXPECT_TRUE(path_exists(e + "/e/a.txt"));
  EXPECT_FALSE(path_exists(e + "/e/b.md"));
  EXPECT_FALSE(path_exists(e + "/e/sub/c.txt"));
  EXPECT_TRUE(path_exists(e + "/e/sub/d.md")) << "*.md is for the top only, as in .dockerignore";
  EXPECT_TRUE(path_exists(r.snapshots[1] + "/w/a.txt"));
  EXPECT_FALSE(path_exists(r.snapshots[1] + "/w/b.md")) << "a wildcard's match excluded";
  EXPECT_EQ(read_file(r.snapshots[2] + "/p/x/y/z.txt"), "x/y/z.txt");
  EXPECT_EQ(read_file(r.snapshots[2] + "/p/dir/sub/c.txt"), "dir/sub/c.txt");
  EXPECT_FALSE(path_exists(r.snapshots[2] + "/p/c.txt"));
  EXPECT_EQ(read_file(r.snapshots[3] + "/q/y/z.txt"), "x/y/z.txt");
  EXPECT_EQ(r.independents, (std::vector<bool>{false, false, false, false, true}));
  EXPECT_EQ(read_file(r.snapshots[4] + "/l/sub/d.md"), "dir/sub/d.md");
  // A changed step before the --link copy: its layer comes from the cache all the same,
  // while a plain COPY after a change is done again.
  Built changed = build(r, ctx, "FROM busybox\nENV A=1\nCOPY --link dir /l/\nCOPY dir /m/\n");
  EXPECT_EQ(r.reused.size(), 1u) << changed.output;
  EXPECT_NE(changed.output.find("Using cache (--link"), std::string::npos);
  EXPECT_EQ(r.snapshots.size(), 6u);
  // An excluded file changes nothing in the key.
  write_file(ctx + "/dir/b.md", "changed", O_TRUNC);
  Built again = build(r, ctx, df);
  EXPECT_EQ(count(again.output, " ---> Using cache\n"), 4u) << again.output;
}

TEST(BuildBuilder, StagesTheTargetDoesNotNeedAreSkipped) {
  berth::test::TempDir tmp("build-skip");
  FakeRunner r(tmp.path());
  const std::string df =
      "ARG FILES=files\n"
      "FROM busybox AS broken\n"
      "RUN exit 1\n"
      "FROM busybox AS dep\n"
      "RUN echo dep\n"
      "FROM busybox AS unused\n"
      "RUN echo unused\n"
      "FROM busybox AS files\n"
      "RUN echo files\n"
      "FROM dep\n"
      "ARG FILES\n"
      "COPY --from=$FILES / /x/\n";
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx);
  Built b = build(r, ctx, df);
  EXPECT_EQ(r.runs, (std::vector<std::string>{"echo dep", "echo files"}));
  EXPECT_NE(b.output.find("Step 1/7 : FROM busybox AS dep\n"), std::string::npos) << b.output;
  EXPECT_NE(b.output.find("Step 7/7 : COPY --from=$FILES / /x/\n"), std::string::npos);
  BuildOptions o;
  o.context_dir = ctx;
  o.dockerfile_text = df;
  o.target = "unused";
  o.no_cache = true;
  run_build(o, r, [](const std::string&) {});
  EXPECT_EQ(r.runs.back(), "echo unused");
  EXPECT_EQ(r.runs.size(), 3u);
}

TEST(BuildBuilder, RunMountsAndNetwork) {
  berth::test::TempDir tmp("build-mounts");
  std::string ctx = tmp / "ctx";
  mkdir_p(ctx + "/src");
  write_file(ctx + "/src/file", "v1", O_CREAT);
  FakeRunner r(tmp.path());
  const std::string df =
      "FROM busybox\n"
      "WORKDIR /w\n"
      "RUN --mount=type=cache,target=c,id=x,mode=0700,uid=5,sharing=locked "
      "--mount=type=tmpfs,target=/t,size=1m --mount=source=src,target=/s --network=none true\n";
  build(r, ctx, df);
  ASSERT_EQ(r.run_steps.size(), 1u);
  const RunStep& rs = r.run_steps[0];
  EXPECT_EQ(rs.network, "none");
  ASSERT_EQ(rs.mounts.size(), 3u);
  EXPECT_EQ(rs.mounts[0].target, "/w/c");
  EXPECT_FALSE(rs.mounts[0].read_only);
  struct stat st {};
  ASSERT_EQ(::stat(rs.mounts[0].source.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, 5u);
  EXPECT_EQ(rs.mounts[0].source.rfind(ctx + ".cache/", 0), 0u);
  EXPECT_EQ(rs.mounts[1].type, RunMount::Type::kTmpfs);
  EXPECT_EQ(rs.mounts[1].size, 1 << 20);
  EXPECT_EQ(rs.mounts[2].source, ctx + "/src");
  EXPECT_TRUE(rs.mounts[2].read_only);
  // The bound files are in the key; the cache's content is not.
  write_file(rs.mounts[0].source + "/junk", "x", O_CREAT);
  Built same = build(r, ctx, df);
  EXPECT_EQ(r.run_steps.size(), 1u) << same.output;
  write_file(ctx + "/src/file", "v2", O_TRUNC);
  build(r, ctx, df);
  EXPECT_EQ(r.run_steps.size(), 2u);
  for (auto [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"type=secret,id=t", "RUN --mount=type=secret needs the secret sent by the client"},
           {"type=cache", "mount destination (target) is required"},
           {"type=tmpfs,target=/x,from=a", "from= is not supported"},
           {"type=bind,target=/x,colour=red", "unexpected key 'colour'"}}) {
    try {
      build(r, ctx, "FROM busybox\nRUN --mount=" + text + " true\n");
      ADD_FAILURE() << text;
    } catch (const InvalidArgument& e) {
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace berth::build
