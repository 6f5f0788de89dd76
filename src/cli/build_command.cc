// `berth build`: the context directory as a tar (less what .dockerignore excludes), posted to
// /build, and Docker's step lines printed as they come.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <random>
#include <set>

#include "base/dir.h"
#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "build/build.h"
#include "cli/command.h"
#include "cli/json_message.h"
#include "cli/tar_stream.h"

namespace berth::cli {
namespace {

using nlohmann::json;

struct Options {
  std::vector<std::string> tags, build_args, labels;
  std::string file, target, iidfile, network;
  bool no_cache = false, quiet = false, pull = false, force_rm = false;
  bool rm = true;
};

// Writes the context below `root` into the tar: every path .dockerignore does not exclude,
// the Dockerfile and .dockerignore always.
class ContextWriter {
 public:
  ContextWriter(TarWriter& tar, const build::DockerIgnore& ignore, std::set<std::string> keep,
                std::set<std::string> skip)
      : tar_(tar), ignore_(ignore), keep_(std::move(keep)), skip_(std::move(skip)) {}

  void walk(int dirfd, const std::string& rel) {
    for (auto& name : dir_names(dirfd)) {
      std::string path = rel.empty() ? name : rel + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) < 0) throw_errno("stat " + path);
      if (skip_.count(path)) continue;
      bool excluded = ignore_.excluded(path) && !keep_.count(path);
      if (excluded && !(S_ISDIR(st.st_mode) && ignore_.has_exceptions())) continue;
      TarHeader h;
      h.name = path;
      h.mode = st.st_mode & 07777;
      h.mtime = st.st_mtim.tv_sec;
      h.uid = 0;
      h.gid = 0;
      if (S_ISDIR(st.st_mode)) {
        h.type = TarType::kDirectory;
        if (!excluded) tar_.header(h);
        UniqueFd sub(
            ::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) throw_errno("open " + path);
        walk(sub.get(), path);
      } else if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = ::readlinkat(dirfd, name.c_str(), target, sizeof target);
        if (n < 0) throw_errno("readlink " + path);
        h.type = TarType::kSymlink;
        h.link.assign(target, static_cast<size_t>(n));
        tar_.header(h);
      } else if (S_ISREG(st.st_mode)) {
        UniqueFd f(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
        if (!f) throw_errno("open " + path);
        h.size = st.st_size;
        tar_.header(h);
        char buf[1 << 16];
        int64_t left = st.st_size;
        while (left > 0) {
          ssize_t got =
              ::read(f.get(), buf, static_cast<size_t>(std::min<int64_t>(left, sizeof buf)));
          if (got <= 0) throw Error("read " + path + ": the file changed while it was sent");
          tar_.data(std::string_view(buf, static_cast<size_t>(got)));
          left -= got;
        }
      }
      // Sockets, fifos and devices are not sent, as with docker.
    }
  }

 private:
  TarWriter& tar_;
  const build::DockerIgnore& ignore_;
  std::set<std::string> keep_, skip_;
};

std::string random_hex() {
  std::random_device rd;
  char buf[17];
  snprintf(buf, sizeof buf, "%08x%08x", rd(), rd());
  return buf;
}

json pairs_json(const std::vector<std::string>& list, bool env_fallback) {
  json out = json::object();
  for (auto& kv : list) {
    auto eq = kv.find('=');
    if (eq != std::string::npos) {
      out[kv.substr(0, eq)] = kv.substr(eq + 1);
    } else if (env_fallback) {
      const char* v = std::getenv(kv.c_str());
      out[kv] = v ? json(v) : json(nullptr);
    } else {
      out[kv] = "";
    }
  }
  return out;
}

int run_build(Context& ctx, const Options& o, const std::string& context_dir) {
  UniqueFd root(::open(context_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) throw Error("unable to prepare context: path \"" + context_dir + "\" not found");
  std::string ignore_text =
      read_file_if_exists(path_join(context_dir, ".dockerignore")).value_or("");
  build::DockerIgnore ignore(ignore_text);
  // The Dockerfile: inside the context by its relative path, else sent under a name of its own.
  std::string dockerfile = "Dockerfile", extra_name, extra_text;
  if (o.file == "-") {
    extra_text = read_fd(STDIN_FILENO);
  } else if (!o.file.empty()) {
    std::string abs_ctx = clean_path(
        context_dir[0] == '/' ? context_dir : path_join(::get_current_dir_name(), context_dir));
    std::string abs_file =
        clean_path(o.file[0] == '/' ? o.file : path_join(::get_current_dir_name(), o.file));
    if (abs_file.rfind(abs_ctx + "/", 0) == 0) {
      dockerfile = abs_file.substr(abs_ctx.size() + 1);
    } else {
      extra_text = read_file(o.file);
    }
  }
  if (o.file == "-" || !extra_text.empty()) {
    extra_name = ".dockerfile." + random_hex();
    dockerfile = extra_name;
  }
  // The tar goes to an unnamed temporary file, then to the daemon with its length.
  UniqueFd tmp(::open("/tmp", O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (!tmp) throw_errno("create a temporary file for the build context");
  {
    TarWriter tar([&](std::string_view d) { write_all(tmp.get(), d); });
    auto add = [&](const std::string& name, const std::string& text) {
      TarHeader h;
      h.name = name;
      h.mode = 0600;
      h.size = static_cast<int64_t>(text.size());
      tar.header(h);
      tar.data(text);
    };
    if (extra_name.empty()) {
      ContextWriter(tar, ignore, {dockerfile, ".dockerignore"}, {}).walk(root.get(), "");
    } else {
      // As the docker CLI: the Dockerfile brought from elsewhere, and a .dockerignore that
      // keeps it (and itself) out of what COPY sees.
      ContextWriter(tar, ignore, {}, {".dockerignore"}).walk(root.get(), "");
      add(extra_name, extra_text);
      add(".dockerignore", ignore_text + "\n" + extra_name + "\n.dockerignore\n");
    }
    tar.finish();
  }
  off_t size = ::lseek(tmp.get(), 0, SEEK_END);
  ::lseek(tmp.get(), 0, SEEK_SET);

  Query q;
  for (auto& t : o.tags) q.add("t", t);
  q.add("dockerfile", dockerfile);
  if (!o.target.empty()) q.add("target", o.target);
  q.add("buildargs", pairs_json(o.build_args, true).dump());
  q.add("labels", pairs_json(o.labels, false).dump());
  q.flag("nocache", o.no_cache);
  q.flag("q", o.quiet);
  q.flag("pull", o.pull);
  q.add("rm", o.rm ? "1" : "0");
  q.flag("forcerm", o.force_rm);
  if (!o.network.empty()) q.add("networkmode", o.network);
  q.add("version", "1");

  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("Content-Type", "application/x-tar");
  req.body_fd = tmp.get();
  req.body_size = size;
  JsonMessagePrinter printer(stdout, stdout_is_terminal());
  std::string id;
  JsonSplitter splitter([&](const json& msg) {
    if (msg.contains("aux") && msg["aux"].is_object()) {
      id = msg["aux"].value("ID", "");
      return;
    }
    if (o.quiet && msg.contains("stream")) return;
    printer.print(msg);
  });
  try {
    ctx.api().stream(std::move(req), "/build", q, [&](std::string_view d) { splitter.feed(d); });
  } catch (...) {
    printer.finish();
    throw;
  }
  printer.finish();
  if (o.quiet) print_out(id + "\n");
  if (!o.iidfile.empty()) write_file(o.iidfile, id, O_CREAT | O_TRUNC);
  return 0;
}

}  // namespace

void register_build_command(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"image build", "build"},
         .usage = "[OPTIONS] PATH",
         .summary = "Build an image from a Dockerfile",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-t,--tag", o->tags, "Name and optionally a tag in the 'name:tag' format")
              ->allow_extra_args(false)
              ->type_name("list");
          app.add_option("-f,--file", o->file,
                         "Name of the Dockerfile (Default is 'PATH/Dockerfile')")
              ->type_name("string");
          app.add_option("--build-arg", o->build_args, "Set build-time variables")
              ->allow_extra_args(false)
              ->type_name("list");
          app.add_option("--label", o->labels, "Set metadata for an image")
              ->allow_extra_args(false)
              ->type_name("list");
          app.add_option("--target", o->target, "Set the target build stage to build.")
              ->type_name("string");
          app.add_option("--iidfile", o->iidfile, "Write the image ID to the file")
              ->type_name("string");
          app.add_option("--network", o->network,
                         "Set the networking mode for the RUN instructions during build")
              ->type_name("string");
          app.add_flag("--no-cache", o->no_cache, "Do not use cache when building the image");
          app.add_flag("-q,--quiet", o->quiet,
                       "Suppress the build output and print image ID on success");
          app.add_flag("--pull", o->pull, "Always attempt to pull a newer version of the image");
          app.add_flag("--rm", o->rm, "Remove intermediate containers after a successful build");
          app.add_flag("--force-rm", o->force_rm, "Always remove intermediate containers");
          return [&ctx, o, &args] { return run_build(ctx, *o, args[0]); };
        });
}

}  // namespace berth::cli
