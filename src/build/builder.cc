// The builder: stages, their instructions in order, the cache, Docker's step lines.
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "base/error.h"
#include "base/fd.h"
#include "base/fs.h"
#include "base/path.h"
#include "build/build.h"
#include "build/copy.h"
#include "build/instructions.h"
#include "image/digest.h"

namespace berth::build {
namespace {

using nlohmann::json;

std::string short_id(const std::string& id) {
  auto h = id.rfind("sha256:", 0) == 0 ? id.substr(7) : id;
  return h.substr(0, 12);
}

struct StageResult {
  std::string name;
  ImageRef image;
};

class Builder {
 public:
  Builder(const BuildOptions& opts, StepRunner& runner,
          const std::function<void(const std::string&)>& out)
      : opts_(opts), runner_(runner), out_(out) {}

  std::string run() {
    df_ = parse_dockerfile(opts_.dockerfile_text);
    if (auto text = read_file_if_exists(path_join(opts_.context_dir, ".dockerignore")))
      ignore_ = DockerIgnore(*text);
    // ARGs before FROM: their defaults, a build arg's value over them.
    for (auto& a : df_.meta_args) {
      auto [name, value] = arg_of(a, [&](const std::string& n) { return meta_lookup(n); });
      if (auto it = opts_.build_args.find(name); it != opts_.build_args.end()) {
        value = it->second;
        used_args_.insert(name);
      }
      meta_[name] = value;
    }
    size_t last = df_.stages.size() - 1;
    if (!opts_.target.empty()) {
      auto it = std::find_if(df_.stages.begin(), df_.stages.end(),
                             [&](const Stage& s) { return s.name == opts_.target; });
      if (it == df_.stages.end())
        throw InvalidArgument("failed to reach build target " + opts_.target + " in Dockerfile");
      last = static_cast<size_t>(it - df_.stages.begin());
    }
    if (!opts_.labels.empty()) {
      std::string text = "LABEL";
      for (auto& [k, v] : opts_.labels) text += " " + json(k).dump() + "=" + json(v).dump();
      df_.stages[last].instructions.push_back(parse_instruction(text, 0, df_.escape));
    }
    // Only the stages the target needs are built, as BuildKit does.
    std::vector<bool> needed = needed_stages(last);
    stages_.resize(df_.stages.size());
    for (size_t i = 0; i <= last; i++)
      if (needed[i]) total_ += 1 + df_.stages[i].instructions.size();
    for (size_t i = 0; i <= last; i++)
      if (needed[i]) build_stage(i);
    std::vector<std::string> unused;
    for (auto& [k, v] : opts_.build_args)
      if (!used_args_.count(k) && !kPredefinedArgs.count(k)) unused.push_back(k);
    if (!unused.empty()) {
      std::string list;
      for (auto& u : unused) list += (list.empty() ? "" : " ") + u;
      out_("[Warning] One or more build-args [" + list + "] were not consumed\n");
    }
    std::string id = stages_[last]->image.id;
    if (id.empty()) throw InvalidArgument("No image was generated. Is your Dockerfile empty?");
    out_("Successfully built " + short_id(id) + "\n");
    return id;
  }

 private:
  std::optional<std::string> meta_lookup(const std::string& n) const {
    auto it = meta_.find(n);
    if (it == meta_.end() || !it->second) return std::nullopt;
    return it->second;
  }

  void step(const Instruction& ins) {
    out_("Step " + std::to_string(++step_) + "/" + std::to_string(total_) + " : " + ins.original +
         "\n");
  }

  // The index of the stage before `before` that `ref` names (its name or its index).
  std::optional<size_t> stage_index(const std::string& ref, size_t before) const {
    std::string l = ref;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    for (size_t i = before; i-- > 0;)
      if (!df_.stages[i].name.empty() && df_.stages[i].name == l) return i;
    if (!ref.empty() && ref.size() < 6 && std::all_of(ref.begin(), ref.end(), ::isdigit)) {
      size_t i = std::stoul(ref);
      if (i < before) return i;
    }
    return std::nullopt;
  }

  // The stages `last` depends on through FROM, COPY/ADD --from and RUN --mount from=, and
  // itself. References are expanded with the ARGs before the first FROM.
  std::vector<bool> needed_stages(size_t last) const {
    std::vector<bool> needed(df_.stages.size(), false);
    std::vector<size_t> todo{last};
    auto expand = [&](const std::string& w) {
      return expand_word(
          w, [&](const std::string& n) { return meta_lookup(n); }, df_.escape);
    };
    while (!todo.empty()) {
      size_t i = todo.back();
      todo.pop_back();
      if (needed[i]) continue;
      needed[i] = true;
      const Stage& s = df_.stages[i];
      std::vector<std::string> refs{s.base};
      for (auto& ins : s.instructions)
        for (auto& [k, v] : ins.flags) {
          if (k == "from") refs.push_back(v);
          if (k == "mount")
            for (auto& opt : split(v, ','))
              if (opt.rfind("from=", 0) == 0) refs.push_back(opt.substr(5));
        }
      for (auto& r : refs) {
        std::string ref;
        try {
          ref = expand(r);
        } catch (const InvalidArgument&) {
          continue;  // reported when the stage runs
        }
        if (auto dep = stage_index(ref, i)) todo.push_back(*dep);
      }
    }
    return needed;
  }

  void build_stage(size_t index) {
    const Stage& s = df_.stages[index];
    current_ = index;
    step(s.from);
    for (auto& [k, v] : s.from.flags)
      if (k != "platform")
        throw InvalidArgument("Dockerfile parse error on line " + std::to_string(s.from.line) +
                              ": unknown flag: --" + k);
    std::string base = expand_word(
        s.base, [&](const std::string& n) { return meta_lookup(n); }, df_.escape);
    State st;
    st.name = s.name;
    if (base == "scratch") {
      st.config = json::object();
    } else if (auto prev = find_stage(base)) {
      st.image = prev->image;
      st.config = prev->image.config;
    } else {
      st.image = runner_.image(base);
      st.config = st.image.config.is_object() ? st.image.config : json::object();
    }
    if (!st.image.id.empty()) out_(" ---> " + short_id(st.image.id) + "\n");
    bool has_path = false;
    for (auto& e : env_of(st.config))
      if (e.get<std::string>().rfind("PATH=", 0) == 0) has_path = true;
    if (!has_path) {
      json env = env_of(st.config);
      env.push_back("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
      st.config["Env"] = env;
    }
    // The base's ONBUILD triggers run first, then leave the config.
    std::vector<std::string> triggers;
    if (st.config.contains("OnBuild") && st.config["OnBuild"].is_array())
      for (auto& t : st.config["OnBuild"]) triggers.push_back(t.get<std::string>());
    st.config["OnBuild"] = nullptr;
    if (!triggers.empty()) {
      out_("# Executing " + std::to_string(triggers.size()) + " build trigger" +
           (triggers.size() > 1 ? "s" : "") + "\n");
      for (auto& t : triggers) {
        Instruction ins = parse_instruction(t, s.from.line, df_.escape);
        dispatch(st, ins);
      }
    }
    for (auto& ins : s.instructions) {
      step(ins);
      dispatch(st, ins);
    }
    stages_[index] = StageResult{s.name, st.image};
  }

  // A stage built before this one; needed_stages made sure the ones referred to are.
  const StageResult* find_stage(const std::string& ref) const {
    auto i = stage_index(ref, current_);
    if (!i) return nullptr;
    if (!stages_[*i]) throw Error("stage " + ref + " was skipped but is needed");
    return &*stages_[*i];
  }

  void dispatch(State& st, const Instruction& ins) {
    Context ctx{st, ins, df_.escape, opts_, meta_, used_args_, ignore_};
    StepPlan plan = plan_step(ctx);
    if (plan.kind == StepPlan::Kind::kCopy && !plan.copy.from_stage.empty()) {
      if (auto prev = find_stage(plan.copy.from_stage)) {
        plan.copy.from_image = prev->image.id;
        if (plan.copy.from_image.empty())
          throw InvalidArgument(ins.keyword + " --from=" + plan.copy.from_stage +
                                ": the stage has no files");
      } else {
        plan.copy.from_image = runner_.image(plan.copy.from_stage).id;
      }
    }
    execute(st, plan);
  }

  std::string cache_key(const State& st, const StepPlan& plan, const std::string& extra) const {
    image::Sha256 h;
    h.update(st.image.id + "\n" + plan.created_by + "\n" + plan.config.dump() + "\n" + extra);
    return h.digest();
  }

  bool try_cache(State& st, const std::string& key) {
    if (opts_.no_cache) return false;
    auto id = runner_.cached(key);
    if (!id) return false;
    try {
      st.image = runner_.get(*id);
    } catch (const NotFound&) {
      return false;
    }
    st.config = plan_config_of(st.image);
    out_(" ---> Using cache\n ---> " + short_id(st.image.id) + "\n");
    return true;
  }

  static json plan_config_of(const ImageRef& img) {
    return img.config.is_object() ? img.config : json::object();
  }

  void finish(State& st, const std::string& key, const std::string& id) {
    runner_.remember(key, id);
    st.image = runner_.get(id);
    st.config = plan_config_of(st.image);
    out_(" ---> " + short_id(id) + "\n");
  }

  // A RUN here-document with a `#!` line: an executable file in a directory of its own,
  // mounted read-only where the command line names it.
  RunMount script_mount(const Heredoc& doc) {
    if (opts_.scratch_dir.empty()) throw Error("the build has no scratch directory");
    std::string dir = path_join(opts_.scratch_dir, "pipes-" + std::to_string(step_));
    mkdir_p(dir, 0755);
    std::string file = path_join(dir, doc.name);
    write_file(file, doc.content, O_CREAT | O_TRUNC);
    if (::chmod(file.c_str(), 0755) < 0) throw_errno("chmod " + file);
    return RunMount{RunMount::Type::kBind, dir, kScriptDir, true};
  }

  // RUN --mount=type=bind,from=: the image of each such mount ("" for the others).
  std::vector<std::string> mount_images(const StepPlan& plan) {
    std::vector<std::string> out;
    for (auto& m : plan.mounts) {
      if (m.type != MountPlan::Type::kBind || m.from.empty()) {
        out.emplace_back();
      } else if (auto prev = find_stage(m.from)) {
        if (prev->image.id.empty())
          throw InvalidArgument("RUN --mount from=" + m.from + ": the stage has no files");
        out.push_back(prev->image.id);
      } else {
        out.push_back(runner_.image(m.from).id);
      }
    }
    return out;
  }

  // What of a mount's source the step's cache key covers: a bind mount's files (the
  // context's after .dockerignore) or image; a cache's or tmpfs's content never.
  std::string mount_key(const MountPlan& m, const std::string& image) {
    if (m.type != MountPlan::Type::kBind) return "";
    if (!image.empty()) return image + ":" + m.source;
    CopyRequest req;
    req.sources = {m.source.empty() ? "." : m.source};
    req.dest = "/";
    req.ignore = &ignore_;
    req.keyword = "RUN --mount";
    UniqueFd root(::open(opts_.context_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!root) throw_errno("open the build context");
    return resolve_copy(root.get(), req).checksum;
  }

  // Adds the mounts from `i` on to the step, then runs `go` while their sources exist.
  void with_mounts(const StepPlan& plan, const std::vector<std::string>& images, size_t i,
                   RunStep& rs, const std::function<void()>& go) {
    if (i == plan.mounts.size()) return go();
    const MountPlan& m = plan.mounts[i];
    auto next = [&](RunMount rm) {
      rs.mounts.push_back(std::move(rm));
      with_mounts(plan, images, i + 1, rs, go);
    };
    std::string source = m.source.empty() ? "." : m.source;
    if (m.type == MountPlan::Type::kTmpfs)
      return next(RunMount{RunMount::Type::kTmpfs, "", m.target, false, m.size});
    if (m.type == MountPlan::Type::kCache) {
      if (opts_.cache_mount_dir.empty()) throw Error("the build has no cache mount directory");
      std::string dir = cache_mount_path(opts_.cache_mount_dir, m);
      UniqueFd lock;
      if (m.locked) {
        // sharing=locked: one step at a time uses it, across builds.
        lock = UniqueFd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!lock || ::flock(lock.get(), LOCK_EX) < 0) throw_errno("lock the cache mount " + m.id);
      }
      return next(RunMount{RunMount::Type::kBind, dir, m.target, !m.read_write, 0});
    }
    if (!images[i].empty()) {
      // A stage's or an image's files, on a snapshot of their own: writes go nowhere.
      runner_.with_image_root(images[i], [&](int root) {
        next(RunMount{RunMount::Type::kBind, mount_source(root, source, m.from), m.target,
                      !m.read_write, 0});
      });
      return;
    }
    UniqueFd ctx(::open(opts_.context_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (!ctx) throw_errno("open the build context");
    std::string path = mount_source(ctx.get(), source, "the build context");
    if (m.read_write) {
      // Writes must not reach the context later steps copy from: a copy of it takes them.
      std::string dir =
          path_join(opts_.scratch_dir, "bind-" + std::to_string(step_) + "-" + std::to_string(i));
      mkdir_p(dir, 0755);
      UniqueFd dst(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
      if (!dst) throw_errno("open " + dir);
      CopyRequest req;
      req.sources = {source};
      req.dest = "/";
      req.keyword = "RUN --mount";
      ResolvedCopy rc = resolve_copy(ctx.get(), req);
      perform_copy(ctx.get(), dst.get(), req, rc);
      path = rc.single_dir ? dir : path_join(dir, path.substr(path.rfind('/') + 1));
    }
    next(RunMount{RunMount::Type::kBind, path, m.target, !m.read_write, 0});
  }

  void execute(State& st, StepPlan& plan) {
    auto started = [&](const std::string& cid) {
      out_(" ---> Running in " + short_id(cid) + "\n");
    };
    if (plan.kind == StepPlan::Kind::kConfig) {
      std::string key = cache_key(st, plan, "");
      if (try_cache(st, key)) return;
      finish(st, key, runner_.commit_config(st.image, plan.config, plan.created_by, st.author));
      return;
    }
    if (plan.kind == StepPlan::Kind::kRun) {
      std::string extra = plan.run_config.dump();
      if (plan.script) extra += "\n" + plan.script->name + "\n" + plan.script->content;
      std::vector<std::string> bind_images = mount_images(plan);
      for (size_t i = 0; i < plan.mounts.size(); i++)
        extra += "\nmount " + plan.mounts[i].text + " " + mount_key(plan.mounts[i], bind_images[i]);
      std::string key = cache_key(st, plan, extra);
      if (try_cache(st, key)) return;
      if (st.image.id.empty())
        throw InvalidArgument("RUN needs a base image: this stage is FROM scratch with no files");
      RunStep rs;
      rs.parent = st.image;
      rs.config = plan.run_config;
      rs.network = plan.network;
      rs.created_by = plan.created_by;
      rs.author = st.author;
      rs.image_config = plan.config;
      rs.output = [&](std::string_view text) { out_(std::string(text)); };
      rs.started = started;
      if (plan.script) rs.mounts.push_back(script_mount(*plan.script));
      std::string id;
      with_mounts(plan, bind_images, 0, rs, [&] { id = runner_.run(rs); });
      finish(st, key, id);
      return;
    }
    if (plan.kind == StepPlan::Kind::kWorkdir) {
      std::string key = cache_key(st, plan, "");
      if (try_cache(st, key)) return;
      std::string dir = plan.config.value("WorkingDir", "/");
      finish(st, key,
             runner_.copy(
                 st.image, plan.config, plan.created_by, st.author, false,
                 [&](int root) { make_dirs(root, dir); }, started));
      return;
    }
    // COPY and ADD: the sources' checksum names them in the history and in the key.
    CopyPlan& cp = plan.copy;
    std::function<void(const RootFn&)> with_source = [&](const RootFn& fn) {
      if (cp.from_image.empty()) {
        UniqueFd root(::open(opts_.context_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
        if (!root) throw_errno("open the build context");
        fn(root.get());
      } else {
        runner_.with_image_root(cp.from_image, fn);
      }
    };
    ResolvedCopy rc;
    with_source([&](int root) { rc = resolve_copy(root, cp.req); });
    plan.created_by =
        shell_comment(st.config, cp.req.keyword + " " + rc.checksum + " in " + cp.req.dest + " ");
    std::string key = cache_key(st, plan, rc.checksum + cp.from_image);
    if (try_cache(st, key)) return;
    if (cp.link) {
      copy_linked(st, plan, rc, key, with_source, started);
      return;
    }
    std::string id = runner_.copy(
        st.image, plan.config, plan.created_by, st.author, false,
        [&](int dst) { with_source([&](int src) { perform_copy(src, dst, cp.req, rc); }); },
        started);
    finish(st, key, id);
  }

  // COPY --link: the files go into an empty layer (with the destination's directories as the
  // image has them, so that the result is the plain copy's), and its cache key leaves out
  // what came before: a later build whose earlier steps changed takes the layer from the
  // cache and puts it on its own parent.
  void copy_linked(State& st, StepPlan& plan, const ResolvedCopy& rc, const std::string& key,
                   const std::function<void(const RootFn&)>& with_source,
                   const std::function<void(const std::string&)>& started) {
    CopyPlan& cp = plan.copy;
    std::vector<DirMeta> dirs;
    std::string dest = clean_path(cp.req.dest);
    if (!st.image.id.empty())
      runner_.with_image_root(st.image.id, [&](int root) {
        dirs = existing_dirs(root, dest);
        if (!cp.req.chown.empty()) cp.req.owner = resolve_owner(root, cp.req.chown);
      });
    if (!cp.req.chown.empty() && !cp.req.owner) cp.req.owner = resolve_owner(-1, cp.req.chown);
    std::string meta;
    for (auto& d : dirs)
      meta += d.path + ":" + std::to_string(d.mode) + ":" + std::to_string(d.uid) + ":" +
              std::to_string(d.gid) + "\n";
    image::Sha256 h;
    h.update("link\n" + plan.created_by + "\n" + rc.checksum + "\n" + cp.from_image + "\n" +
             cp.req.chown + "\n" + (cp.req.chmod ? std::to_string(*cp.req.chmod) : "") + "\n" +
             (cp.req.parents ? "parents\n" : "") + meta);
    std::string link_key = h.digest();
    if (!opts_.no_cache)
      if (auto prev = runner_.cached(link_key)) {
        try {
          std::string id =
              runner_.reuse_layer(st.image, *prev, plan.config, plan.created_by, st.author);
          out_(" ---> Using cache (--link: the layer of " + short_id(*prev) + ")\n");
          runner_.remember(key, id);
          st.image = runner_.get(id);
          st.config = plan_config_of(st.image);
          out_(" ---> " + short_id(id) + "\n");
          return;
        } catch (const NotFound&) {
          // The image is gone: copy again.
        }
      }
    std::string id = runner_.copy(
        st.image, plan.config, plan.created_by, st.author, true,
        [&](int dst) {
          make_dirs_like(dst, dirs);
          with_source([&](int src) { perform_copy(src, dst, cp.req, rc); });
        },
        started);
    runner_.remember(link_key, id);
    finish(st, key, id);
  }

  const BuildOptions& opts_;
  StepRunner& runner_;
  const std::function<void(const std::string&)>& out_;
  Dockerfile df_;
  DockerIgnore ignore_;
  std::map<std::string, std::optional<std::string>> meta_;
  std::set<std::string> used_args_;
  std::vector<std::optional<StageResult>> stages_;  // by index; unset when skipped
  size_t current_ = 0;                              // the stage being built
  size_t total_ = 0, step_ = 0;
};

}  // namespace

std::string run_build(const BuildOptions& opts, StepRunner& runner,
                      const std::function<void(const std::string&)>& out) {
  return Builder(opts, runner, out).run();
}

}  // namespace berth::build
