// The builder: stages, their instructions in order, the cache, Docker's step lines.
#include <fcntl.h>

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
    for (size_t i = 0; i <= last; i++) total_ += 1 + df_.stages[i].instructions.size();
    for (size_t i = 0; i <= last; i++) build_stage(df_.stages[i]);
    std::vector<std::string> unused;
    for (auto& [k, v] : opts_.build_args)
      if (!used_args_.count(k) && !kPredefinedArgs.count(k)) unused.push_back(k);
    if (!unused.empty()) {
      std::string list;
      for (auto& u : unused) list += (list.empty() ? "" : " ") + u;
      out_("[Warning] One or more build-args [" + list + "] were not consumed\n");
    }
    std::string id = stages_.back().image.id;
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

  void build_stage(const Stage& s) {
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
    stages_.push_back(StageResult{s.name, st.image});
  }

  const StageResult* find_stage(const std::string& ref) const {
    std::string l = ref;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    for (auto& s : stages_)
      if (!s.name.empty() && s.name == l) return &s;
    if (!ref.empty() && std::all_of(ref.begin(), ref.end(), ::isdigit)) {
      size_t i = std::stoul(ref);
      if (i < stages_.size()) return &stages_[i];
    }
    return nullptr;
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

  void execute(State& st, StepPlan& plan) {
    auto started = [&](const std::string& cid) {
      out_(" ---> Running in " + short_id(cid) + "\n");
    };
    if (plan.kind == StepPlan::Kind::kConfig) {
      std::string key = cache_key(st, plan, "");
      if (try_cache(st, key)) return;
      finish(st, key, runner_.commit_config(st.image, plan.config, plan.created_by));
      return;
    }
    if (plan.kind == StepPlan::Kind::kRun) {
      std::string key = cache_key(st, plan, plan.run_config.dump());
      if (try_cache(st, key)) return;
      if (st.image.id.empty())
        throw InvalidArgument("RUN needs a base image: this stage is FROM scratch with no files");
      RunStep rs{st.image,     plan.run_config,
                 plan.network, plan.created_by,
                 plan.config,  [&](std::string_view text) { out_(std::string(text)); },
                 started};
      finish(st, key, runner_.run(rs));
      return;
    }
    if (plan.kind == StepPlan::Kind::kWorkdir) {
      std::string key = cache_key(st, plan, "");
      if (try_cache(st, key)) return;
      std::string dir = plan.config.value("WorkingDir", "/");
      finish(st, key,
             runner_.copy(
                 st.image, plan.config, plan.created_by, [&](int root) { make_dirs(root, dir); },
                 started));
      return;
    }
    // COPY and ADD: the sources' checksum names them in the history and in the key.
    CopyPlan& cp = plan.copy;
    auto with_source = [&](const RootFn& fn) {
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
    std::string id = runner_.copy(
        st.image, plan.config, plan.created_by,
        [&](int dst) { with_source([&](int src) { perform_copy(src, dst, cp.req, rc); }); },
        started);
    finish(st, key, id);
  }

  const BuildOptions& opts_;
  StepRunner& runner_;
  const std::function<void(const std::string&)>& out_;
  Dockerfile df_;
  DockerIgnore ignore_;
  std::map<std::string, std::optional<std::string>> meta_;
  std::set<std::string> used_args_;
  std::vector<StageResult> stages_;
  size_t total_ = 0, step_ = 0;
};

}  // namespace

std::string run_build(const BuildOptions& opts, StepRunner& runner,
                      const std::function<void(const std::string&)>& out) {
  return Builder(opts, runner, out).run();
}

}  // namespace berth::build
