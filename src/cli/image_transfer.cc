// load, save and import: image tarballs streamed between a file (or stdin/stdout) and the
// daemon, never held in memory; progress goes to stderr, and only when it is a terminal.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/json_message.h"
#include "cli/registry_commands.h"
#include "cli/units.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

// A single progress line on stderr, redrawn in place; silent when stderr is not a terminal.
class Progress {
 public:
  explicit Progress(std::string verb) : verb_(std::move(verb)), on_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() {
    if (drawn_) std::fputs("\r\033[2K", stderr);
  }
  void update(uint64_t done, int64_t total) {
    if (!on_) return;
    int64_t now = now_unix_nanos();
    if (now - last_ < 100'000'000 && (total < 0 || static_cast<int64_t>(done) < total)) return;
    last_ = now;
    std::fprintf(stderr, "\r\033[2K%s %s", verb_.c_str(),
                 progress_bar(static_cast<int64_t>(done), total).c_str());
    std::fflush(stderr);
    drawn_ = true;
  }

 private:
  std::string verb_;
  bool on_;
  bool drawn_ = false;
  int64_t last_ = 0;
};

// The body of an upload: a file (size known, so Content-Length) or stdin (chunked).
struct UploadSource {
  UniqueFd owned;
  int fd = STDIN_FILENO;
  int64_t size = -1;

  explicit UploadSource(const std::string& path) {
    if (path.empty() || path == "-") {
      struct stat st {};
      if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size = st.st_size;
      return;
    }
    owned = open_or_throw(path, O_RDONLY | O_CLOEXEC);
    fd = owned.get();
    struct stat st {};
    if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) size = st.st_size;
  }
};

// Feeds the daemon's JSON message stream to docker's display, stdout being its terminal.
void post_tar(Context& ctx, const std::string& path, const Query& q, UploadSource* src,
              const std::string& verb) {
  HttpRequest req;
  req.method = "POST";
  req.headers.emplace_back("Content-Type", src ? "application/x-tar" : "text/plain");
  Progress progress(verb);
  if (src) {
    req.body_fd = src->fd;
    req.body_size = src->size;
    req.on_sent = [&progress, src](uint64_t sent) { progress.update(sent, src->size); };
  }
  JsonMessagePrinter printer(stdout, stdout_is_terminal());
  JsonSplitter splitter([&printer](const json& msg) { printer.print(msg); });
  try {
    ctx.api().stream(std::move(req), path, q,
                     [&splitter](std::string_view d) { splitter.feed(d); });
  } catch (...) {
    printer.finish();
    throw;
  }
  printer.finish();
}

void register_load(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string input;
    bool quiet = false;
  };
  r.add({.paths = {"image load", "load"},
         .usage = "[OPTIONS]",
         .summary = "Load an image from a tar archive or STDIN",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-i,--input", o->input, "Read from tar archive file, instead of STDIN")
              ->type_name("string");
          app.add_flag("-q,--quiet", o->quiet, "Suppress the load output");
          return [&ctx, o] {
            if (o->input.empty() && ::isatty(STDIN_FILENO) == 1)
              throw Error("requested load from stdin, but stdin is empty");
            UploadSource src(o->input);
            Query q;
            // As docker: the daemon's own progress is only worth sending to a terminal.
            q.flag("quiet", o->quiet || !stdout_is_terminal());
            post_tar(ctx, "/images/load", q, &src, "Loading");
            return 0;
          };
        });
}

void register_import(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::vector<std::string> changes;
    std::string message, platform;
  };
  r.add({.paths = {"image import", "import"},
         .usage = "[OPTIONS] file|URL|- [REPOSITORY[:TAG]]",
         .summary = "Import the contents from a tarball to create a filesystem image",
         .min_args = 1,
         .max_args = 2},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-c,--change", o->changes,
                         "Apply Dockerfile instruction to the created image")
              ->allow_extra_args(false)
              ->type_name("list");
          app.add_option("-m,--message", o->message, "Set commit message for imported image")
              ->type_name("string");
          app.add_option("--platform", o->platform,
                         "Set platform if server is multi-platform capable")
              ->type_name("string");
          return [&ctx, o, &args] {
            const std::string& source = args[0];
            Query q;
            bool url = source.rfind("http://", 0) == 0 || source.rfind("https://", 0) == 0;
            q.add("fromSrc", url ? source : "-");
            if (args.size() > 1) {
              oci::parse_reference(args[1]);  // refuse a bad name before sending anything
              q.add("repo", args[1]);
            }
            if (!o->message.empty()) q.add("message", o->message);
            if (!o->platform.empty()) q.add("platform", o->platform);
            for (const auto& c : o->changes) q.add("changes", c);
            if (url) {
              post_tar(ctx, "/images/create", q, nullptr, "Importing");
            } else {
              UploadSource src(source);
              post_tar(ctx, "/images/create", q, &src, "Importing");
            }
            return 0;
          };
        });
}

// The -o target: written beside the final name and renamed over it only when complete, so an
// interrupted save never leaves a truncated tarball under the name asked for.
class AtomicOutput {
 public:
  explicit AtomicOutput(const std::string& path) : path_(path) {
    std::string dir = path.find('/') == std::string::npos ? "." : path.substr(0, path.rfind('/'));
    if (dir.empty()) dir = "/";
    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
      throw Error("failed to save image: invalid output path: directory \"" + dir +
                  "\" does not exist");
    tmp_ = path + ".berth-tmp-XXXXXX";
    int fd = ::mkostemp(tmp_.data(), O_CLOEXEC);
    if (fd < 0) throw_errno("failed to save image: create " + path);
    fd_.reset(fd);
  }
  ~AtomicOutput() {
    if (!committed_) ::unlink(tmp_.c_str());
  }
  int fd() const { return fd_.get(); }
  void commit() {
    ::fchmod(fd_.get(), 0644);
    if (::fsync(fd_.get()) != 0) throw_errno("failed to save image: sync " + tmp_);
    fd_.reset();
    if (::rename(tmp_.c_str(), path_.c_str()) != 0)
      throw_errno("failed to save image: rename to " + path_);
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  UniqueFd fd_;
  bool committed_ = false;
};

void register_save(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"image save", "save"},
         .usage = "[OPTIONS] IMAGE [IMAGE...]",
         .summary = "Save one or more images to a tar archive (streamed to STDOUT by default)",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto output = std::make_shared<std::string>();
          app.add_option("-o,--output", *output, "Write to a file, instead of STDOUT")
              ->type_name("string");
          return [&ctx, output, &args] {
            std::unique_ptr<AtomicOutput> file;
            int fd = STDOUT_FILENO;
            if (output->empty()) {
              if (stdout_is_terminal())
                throw Error("cowardly refusing to save to a terminal. Use the -o flag or redirect");
            } else {
              file = std::make_unique<AtomicOutput>(*output);
              fd = file->fd();
            }
            Query q;
            for (const auto& name : args) q.add("names", name);
            Progress progress("Saving");
            uint64_t written = 0;
            HttpRequest req;
            ctx.api().stream(std::move(req), "/images/get", q, [&](std::string_view d) {
              write_all(fd, d);
              written += d.size();
              progress.update(written, -1);
            });
            if (file) file->commit();
            return 0;
          };
        });
}

}  // namespace

void register_image_transfer(Registry& r) {
  register_load(r);
  register_import(r);
  register_save(r);
  register_registry_commands(r);
}

}  // namespace berth::cli
