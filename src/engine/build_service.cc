#include "engine/build_service.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <map>
#include <set>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "build/build.h"
#include "engine/changes.h"
#include "engine/names.h"
#include "engine/rootfs.h"
#include "image/commit.h"
#include "image/layer.h"
#include "image/layer_diff.h"
#include "oci/reference.h"

namespace berth::engine {
namespace {

using nlohmann::json;

constexpr const char* kSchema = R"(
  CREATE TABLE IF NOT EXISTS build_cache(key TEXT PRIMARY KEY, image_id TEXT NOT NULL,
                                         created INTEGER NOT NULL);
)";

// A writable layer over an image's layers, mounted for the time it is used, then removed.
// An image without layers (FROM scratch) has its files written into the layer directly.
class Snapshot {
 public:
  Snapshot(const std::string& root, const std::vector<std::string>& lowers)
      : fs_(root, "build-" + random_id().substr(0, 24)) {
    fs_.prepare();
    path_ = lowers.empty() ? fs_.diff() : fs_.mount(lowers);
  }
  ~Snapshot() {
    try {
      fs_.remove();
    } catch (const std::exception& e) {
      log::warn(std::string("build: remove a snapshot: ") + e.what());
    }
  }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  void with_root(const build::RootFn& fn) const {
    UniqueFd fd(::open(path_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!fd) throw_errno("open " + path_);
    fn(fd.get());
  }
  std::string upper() const { return fs_.diff(); }

 private:
  ContainerRootfs fs_;
  std::string path_;
};

// A directory removed with everything in it.
struct TempDir {
  std::string path;
  ~TempDir() {
    try {
      if (!path.empty()) remove_all(path);
    } catch (const std::exception& e) {
      log::warn(std::string("build: remove ") + path + ": " + e.what());
    }
  }
};

MountSpec mount_of(const build::RunMount& m) {
  MountSpec out;
  out.type =
      m.type == build::RunMount::Type::kBind ? MountSpec::Type::kBind : MountSpec::Type::kTmpfs;
  out.origin = MountSpec::Origin::kMounts;
  out.source = m.source;
  out.destination = m.target;
  out.read_only = m.read_only;
  out.tmpfs_size = m.size;
  return out;
}

// The runtime makes a missing mount point (and its parents) in the container's layer; RUN
// --mount's are no part of the step's result, as with BuildKit. Each one goes from the change
// list when it was added and holds nothing but the next stub.
void drop_mount_stub(const std::string& upper, const std::string& target,
                     std::map<std::string, int>& kinds) {
  std::string path = target, child;
  while (path.size() > 1) {
    auto it = kinds.find(path);
    if (it == kinds.end() || it->second != 1) return;
    struct stat st {};
    std::string host = upper + path;
    if (::lstat(host.c_str(), &st) < 0) return;
    if (S_ISDIR(st.st_mode)) {
      auto names = list_dir(host);
      if (!(names.empty() || (names.size() == 1 && names[0] == child))) return;
    } else if (!(S_ISREG(st.st_mode) && st.st_size == 0 && child.empty())) {
      return;
    }
    kinds.erase(it);
    auto slash = path.rfind('/');
    child = path.substr(slash + 1);
    path = slash == 0 ? "/" : path.substr(0, slash);
  }
}

class Runner : public build::StepRunner {
 public:
  Runner(ContainerManager& containers, image::ImageStore& store, image::ContentStore& content,
         Db& db, const BuildRequest& req)
      : containers_(containers), store_(store), content_(content), db_(db), req_(req) {}

  build::ImageRef image(const std::string& ref) override {
    auto img = store_.find(ref);
    if (!img)
      throw NotFound("pull access denied for " + ref +
                     ", repository does not exist or may require 'docker login': no such image "
                     "here (berth's builder does not pull)");
    return of(*img);
  }

  build::ImageRef get(const std::string& id) override { return of(store_.get(id)); }

  std::string run(const build::RunStep& step) override {
    json cfg = step.config;
    cfg["Image"] = step.parent.id;
    CreateRequest create;
    create.config = cfg;
    create.host_config = {{"NetworkMode", step.network == "default" ? "bridge" : step.network}};
    for (auto& m : step.mounts) create.spec.mounts.push_back(mount_of(m));
    auto created = containers_.create(std::move(create));
    std::string id = created.container.id;
    bool ok = false;
    struct Remover {
      Runner& r;
      const std::string& id;
      const bool& ok;
      ~Remover() {
        if (ok ? !r.req_.remove : !(r.req_.force_remove || r.req_.remove)) return;
        try {
          r.containers_.remove(id, true, true);
        } catch (const std::exception& e) {
          log::warn("build: remove intermediate container " + id + ": " + e.what());
        }
      }
    } remover{*this, id, ok};
    if (step.started) step.started(id);
    // Attached before it starts, as `docker run` is: the output reaches the client as the
    // command writes it.
    int pair[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0)
      throw_errno("socketpair for a RUN step's output");
    UniqueFd mine(pair[0]), theirs(pair[1]);
    containers_.attach(id, std::move(theirs), AttachOptions{}, [] {});
    containers_.start(id);
    stream_output(mine.get(), id, step.output);
    int code = containers_.wait(id, WaitCondition::kNotRunning);
    if (code != 0) {
      std::string cmd;
      for (auto& a : step.config["Cmd"]) cmd += (cmd.empty() ? "" : " ") + a.get<std::string>();
      throw InvalidArgument("The command '" + cmd +
                            "' returned a non-zero code: " + std::to_string(code));
    }
    image::Image parent = store_.get(step.parent.id);
    std::string upper = ContainerRootfs(containers_.options().snapshot_root(), id).diff();
    std::map<std::string, int> kinds;
    for (auto& ch : container_changes(upper, store_.layer_dirs(parent))) kinds[ch.path] = ch.kind;
    for (auto& m : step.mounts) drop_mount_stub(upper, m.target, kinds);
    std::set<std::string> changed;
    for (auto& [path, kind] : kinds) changed.insert(path);
    std::string out = commit(
        parent, upper, [&](const std::string& p) { return changed.count(p) > 0; },
        step.image_config, step.created_by, step.author, id);
    ok = true;
    std::string short_id = id.substr(0, 12);
    if (req_.remove) step.output("Removing intermediate container " + short_id + "\n");
    return out;
  }

  std::string copy(const build::ImageRef& parent, const json& config, const std::string& created_by,
                   const std::string& author, bool independent, const build::RootFn& write,
                   const std::function<void(const std::string&)>&) override {
    image::Image p = parent_of(parent);
    Snapshot snap(containers_.options().snapshot_root(), parent.id.empty() || independent
                                                             ? std::vector<std::string>{}
                                                             : store_.layer_dirs(p));
    snap.with_root(write);
    return commit(
        p, snap.upper(), [](const std::string&) { return true; }, config, created_by, author, "");
  }

  std::string reuse_layer(const build::ImageRef& parent, const std::string& layer_of,
                          const json& config, const std::string& created_by,
                          const std::string& author) override {
    image::Image img = store_.get(layer_of);
    if (img.config.diff_ids.empty()) throw NotFound("image " + layer_of + " has no layer");
    // The layer's own tar, byte for byte: the new image shares the layer.
    UniqueFd blob(::open(content_.path(img.config.diff_ids.back()).c_str(), O_RDONLY | O_CLOEXEC));
    if (!blob) throw NotFound("the layer of image " + layer_of + " is gone");
    return commit_with(
        parent_of(parent),
        [&](const image::WriteFn& out) -> uint64_t {
          char buf[1 << 16];
          uint64_t total = 0;
          for (;;) {
            ssize_t n = ::read(blob.get(), buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) throw_errno("read the layer of " + layer_of);
            if (n == 0) break;
            out(std::string_view(buf, static_cast<size_t>(n)));
            total += static_cast<uint64_t>(n);
          }
          return total > 0 ? 1 : 0;
        },
        config, created_by, author, "");
  }

  std::string commit_config(const build::ImageRef& parent, const json& config,
                            const std::string& created_by, const std::string& author) override {
    return commit(parent_of(parent), "", {}, config, created_by, author, "");
  }

  void with_image_root(const std::string& image_id, const build::RootFn& fn) override {
    image::Image img = store_.get(image_id);
    Snapshot snap(containers_.options().snapshot_root(), store_.layer_dirs(img));
    snap.with_root(fn);
  }

  std::optional<std::string> cached(const std::string& key) override {
    std::lock_guard lk(db_.mutex());
    Statement s(db_, "SELECT image_id FROM build_cache WHERE key = ?");
    s.bind(1, key);
    if (!s.step()) return std::nullopt;
    return s.text(0);
  }

  void remember(const std::string& key, const std::string& image_id) override {
    std::lock_guard lk(db_.mutex());
    Statement s(db_, "INSERT OR REPLACE INTO build_cache(key, image_id, created) VALUES(?, ?, ?)");
    s.bind(1, key).bind(2, image_id).bind(3, static_cast<int64_t>(::time(nullptr)));
    s.run();
  }

 private:
  static build::ImageRef of(const image::Image& img) {
    build::ImageRef r;
    r.id = img.id;
    r.config = img.config.config.is_object() ? img.config.config : json::object();
    return r;
  }

  // Docker's 8-byte frames from the attach connection, their payloads to `out`, until the
  // shim closes it, or the container has stopped and nothing more is there to read.
  void stream_output(int fd, const std::string& id,
                     const std::function<void(std::string_view)>& out) {
    std::string buf;
    auto frames = [&] {
      while (buf.size() >= 8) {
        size_t len = (static_cast<uint8_t>(buf[4]) << 24) | (static_cast<uint8_t>(buf[5]) << 16) |
                     (static_cast<uint8_t>(buf[6]) << 8) | static_cast<uint8_t>(buf[7]);
        if (buf.size() < 8 + len) return;
        if (len > 0) out(std::string_view(buf).substr(8, len));
        buf.erase(0, 8 + len);
      }
    };
    bool stopped = false;
    for (;;) {
      pollfd p{fd, POLLIN, 0};
      int n = ::poll(&p, 1, stopped ? 0 : 200);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        if (stopped) return;
        auto c = containers_.get(id);
        stopped = !c.running();
        continue;
      }
      char chunk[16384];
      ssize_t got = ::read(fd, chunk, sizeof chunk);
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) return;
      buf.append(chunk, static_cast<size_t>(got));
      frames();
    }
  }

  image::Image parent_of(const build::ImageRef& parent) {
    if (!parent.id.empty()) return store_.get(parent.id);
    image::Image scratch;
    scratch.config_text = "{}";
    return scratch;
  }

  // A new image: the parent, the layer from `upper` ("" for none), and Docker's history.
  std::string commit(const image::Image& parent, const std::string& upper,
                     const std::function<bool(const std::string&)>& keep, const json& config,
                     const std::string& created_by, const std::string& author,
                     const std::string& container_id) {
    return commit_with(
        parent,
        [&](const image::WriteFn& out) -> uint64_t {
          if (upper.empty()) return 0;
          return image::write_layer_tar(upper, keep, out);
        },
        config, created_by, author, container_id);
  }

  std::string commit_with(const image::Image& parent, const image::LayerWriter& layer,
                          const json& config, const std::string& created_by,
                          const std::string& author, const std::string& container_id) {
    json container_config = config;
    container_config["Cmd"] = json::array({created_by});
    image::ChildImage child{author, "", container_id, config, container_config};
    return image::commit_image(store_, content_, parent, layer, child).id;
  }

  ContainerManager& containers_;
  image::ImageStore& store_;
  image::ContentStore& content_;
  Db& db_;
  const BuildRequest& req_;
};

// The context tar into `dir`.
void extract_context(const image::ReadFn& read, const std::string& dir) {
  std::vector<char> buf(1 << 20);
  image::apply_layer_blocks(
      [&]() -> std::string_view {
        size_t n = read(buf.data(), buf.size());
        return std::string_view(buf.data(), n);
      },
      dir);
}

}  // namespace

BuildService::BuildService(ContainerManager& containers, image::ImageStore& store,
                           image::ContentStore& content, ImageService& images, Db& db,
                           std::string data_root)
    : containers_(containers),
      store_(store),
      content_(content),
      images_(images),
      db_(db),
      data_root_(std::move(data_root)) {
  db_.exec(kSchema);
  // What a build cut short by a killed daemon left: its context and its snapshots.
  std::string tmp = path_join(data_root_, "tmp");
  if (path_exists(tmp))
    for (auto& name : list_dir(tmp))
      if (name.rfind("build-", 0) == 0) TempDir leftover{path_join(tmp, name)};  // removed now
  std::string snapshots = containers_.options().snapshot_root();
  if (path_exists(snapshots))
    for (auto& name : list_dir(snapshots))
      if (name.rfind("build-", 0) == 0) {
        try {
          ContainerRootfs(snapshots, name).remove();
        } catch (const std::exception& e) {
          log::warn("build: remove a leftover snapshot " + name + ": " + e.what());
        }
      }
}

BuildResult BuildService::build(const BuildRequest& req, const image::ReadFn& context,
                                const std::function<void(const std::string&)>& out) {
  // Tags are checked before anything runs.
  std::vector<oci::Reference> refs;
  for (auto& t : req.tags) {
    auto ref = oci::parse_reference(t);
    if (!ref.digest.empty()) throw InvalidArgument("invalid reference format: " + t);
    if (ref.tag.empty()) ref.tag = "latest";
    refs.push_back(ref);
  }
  std::string tmp = path_join(data_root_, "tmp");
  mkdir_p(tmp, 0700);
  TempDir dir{path_join(tmp, "build-" + random_id().substr(0, 24))};
  extract_context(context, dir.path);
  TempDir scratch{dir.path + "-scratch"};
  mkdir_p(scratch.path, 0700);

  build::BuildOptions opts;
  opts.context_dir = dir.path;
  std::string df_path = req.dockerfile.empty() ? "Dockerfile" : req.dockerfile;
  auto text = read_file_if_exists(path_join(dir.path, df_path));
  if (!text && df_path == "Dockerfile")
    text = read_file_if_exists(path_join(dir.path, "dockerfile"));
  if (!text) throw InvalidArgument("Cannot locate specified Dockerfile: " + df_path);
  opts.dockerfile_text = *text;
  opts.build_args = req.build_args;
  opts.labels = req.labels;
  opts.target = req.target;
  opts.network = req.network;
  opts.no_cache = req.no_cache;
  opts.scratch_dir = scratch.path;
  opts.cache_mount_dir = path_join(data_root_, "build-cache-mounts");
  Runner runner(containers_, store_, content_, db_, req);
  BuildResult result;
  result.image_id = build::run_build(opts, runner, out);
  for (auto& ref : refs) {
    images_.tag(result.image_id, ref.familiar_string(), "");
    result.tagged.push_back(ref.familiar_string());
    out("Successfully tagged " + ref.familiar_string() + "\n");
  }
  return result;
}

std::vector<std::string> BuildService::prune_cache() {
  std::lock_guard lk(db_.mutex());
  std::vector<std::string> keys;
  Statement s(db_, "SELECT key FROM build_cache");
  while (s.step()) keys.push_back(s.text(0));
  db_.exec("DELETE FROM build_cache");
  return keys;
}

}  // namespace berth::engine
