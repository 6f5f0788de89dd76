// `berth volume ...`: create, ls, inspect, rm and prune, each one or a few calls to the
// /volumes endpoints with the docker CLI's flags, output and exit codes.
#include <cctype>
#include <cstdio>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/container_opts.h"
#include "cli/units.h"
#include "cli/volume_list.h"

namespace berth::cli {

using nlohmann::json;

namespace {

std::string volume_path(const std::string& name) {
  return "/volumes/" + path_escape(name);
}

// A value pflag's validator refuses: docker prints it with the usage and exits 125 before
// asking the daemon anything.
int flag_value_error(const std::string& path, const std::string& usage, const std::string& value,
                     const std::string& flag, const std::string& why) {
  std::fprintf(stderr,
               "invalid argument \"%s\" for \"%s\" flag: %s\n\nUsage:  berth %s %s\n\nRun 'berth "
               "%s --help' for more information\n",
               value.c_str(), flag.c_str(), why.c_str(), path.c_str(), usage.c_str(), path.c_str());
  return 125;
}

// opts.ValidateLabel's refusal of a label, or "" when docker accepts it.
std::string label_error(const std::string& label) {
  std::string key = label.substr(0, label.find('='));
  size_t start = key.find_first_not_of(" \t\n\v\f\r");
  key = start == std::string::npos ? "" : key.substr(start);
  if (key.empty()) return "invalid label '" + label + "': empty name";
  if (key.find_first_of(" \t\n\v\f\r") != std::string::npos)
    return "label '" + key + "' contains whitespaces";
  return "";
}

// opts.FilterOpt's refusal, or "" when docker accepts the filter.
std::string filter_error(const std::string& filter) {
  if (filter.empty() || filter.find('=') != std::string::npos) return "";
  return "bad format of filter (expected name=value)";
}

// A filter's name as docker's FilterOpt keeps it.
std::string lower_trimmed(const std::string& s) {
  std::string out = trim(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::vector<std::string> non_empty(const std::vector<std::string>& filters) {
  std::vector<std::string> out;
  for (const auto& f : filters)
    if (!f.empty()) out.push_back(f);
  return out;
}

void register_create(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    std::string name, driver = "local";
    std::vector<std::string> opts, labels;
  };
  static const char* kUsage = "[OPTIONS] [VOLUME]";
  r.add({.paths = {"volume create"}, .usage = kUsage, .summary = "Create a volume", .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-d,--driver", o->driver, "Specify volume driver name (default \"local\")")
              ->type_name("string");
          add_list(app, "--label", o->labels, "Set metadata for a volume");
          app.add_option("--name", o->name, "Specify volume name")->type_name("string");
          add_list(app, "-o,--opt", o->opts, "Set driver specific options (default map[])", "map");
          return [&ctx, o, &args] {
            for (const auto& l : o->labels)
              if (std::string why = label_error(l); !why.empty())
                return flag_value_error("volume create", kUsage, l, "--label", why);
            std::string name = o->name;
            if (!args.empty()) {
              if (!name.empty())
                throw Error(
                    "conflicting options: cannot specify a volume-name through both --name and "
                    "as a positional arg");
              name = args[0];
            }
            // docker's CreateOptions leave out empty fields.
            json body = json::object();
            if (!o->driver.empty()) body["Driver"] = o->driver;
            json driver_opts = json::object(), labels = json::object();
            for (const auto& kv : o->opts) {
              size_t eq = kv.find('=');
              driver_opts[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
            }
            for (const auto& kv : o->labels) {
              size_t eq = kv.find('=');
              labels[kv.substr(0, eq)] = eq == std::string::npos ? "" : kv.substr(eq + 1);
            }
            if (!driver_opts.empty()) body["DriverOpts"] = driver_opts;
            if (!labels.empty()) body["Labels"] = labels;
            if (!name.empty()) body["Name"] = name;
            json v = ctx.api().call("POST", "/volumes/create", {}, &body);
            print_out(v.value("Name", std::string()) + "\n");
            return 0;
          };
        });
}

void register_ls(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    VolumeListOptions list;
    std::vector<std::string> filters;
  };
  r.add({.paths = {"volume ls", "volume list"},
         .usage = "[OPTIONS]",
         .summary = "List volumes",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          add_list(app, "-f,--filter", o->filters, "Provide filter values (e.g. \"dangling=true\")",
                   "filter");
          add_format_flag(app, o->list.format);
          app.add_flag("-q,--quiet", o->list.quiet, "Only display volume names");
          return [&ctx, o] {
            for (const auto& f : o->filters)
              if (std::string why = filter_error(f); !why.empty())
                return flag_value_error("volume ls", "[OPTIONS]", f, "-f, --filter", why);
            Query q;
            if (auto f = filters_json(non_empty(o->filters)); !f.empty()) q.add("filters", f);
            json answer = ctx.api().call("GET", "/volumes", q);
            VolumeListOptions lo = o->list;
            const json& config = ctx.config();
            if (lo.format.empty() && !lo.quiet && config.contains("volumesFormat") &&
                config["volumesFormat"].is_string())
              lo.format = config["volumesFormat"].get<std::string>();
            print_out(render_volumes(answer, lo));
            return 0;
          };
        });
}

void register_inspect(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"volume inspect"},
         .usage = "[OPTIONS] VOLUME [VOLUME...]",
         .summary = "Display detailed information on one or more volumes",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto format = std::make_shared<std::string>();
          app.add_option("-f,--format", *format,
                         "Format output using a custom template:\n"
                         "'json':             Print in JSON format\n"
                         "'TEMPLATE':         Print output using the given Go template")
              ->type_name("string");
          return [&ctx, format, &args] {
            return inspect_objects(ctx, args, *format, "volume", false);
          };
        });
}

void register_rm(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"volume rm", "volume remove"},
         .usage = "[OPTIONS] VOLUME [VOLUME...]",
         .summary = "Remove one or more volumes",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto force = std::make_shared<bool>(false);
          app.add_flag("-f,--force", *force, "Force the removal of one or more volumes");
          return [&ctx, force, &args] {
            // Unlike network rm, docker sends -f to the daemon and prints every error itself,
            // one line each, after trying all the names.
            std::vector<std::string> errors;
            for (const auto& name : args) {
              try {
                ctx.api().call("DELETE", volume_path(name), Query().flag("force", *force));
              } catch (const ApiError& e) {
                errors.push_back(e.what());
                continue;
              }
              print_out(name + "\n");
            }
            for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
            return errors.empty() ? 0 : 1;
          };
        });
}

void register_prune(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool all = false, force = false;
    std::vector<std::string> filters;
  };
  r.add({.paths = {"volume prune"},
         .usage = "[OPTIONS]",
         .summary = "Remove unused local volumes",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--all", o->all, "Remove all unused volumes, not just anonymous ones");
          add_list(app, "--filter", o->filters, "Provide filter values (e.g. \"label=<label>\")",
                   "filter");
          app.add_flag("-f,--force", o->force, "Do not prompt for confirmation");
          return [&ctx, o] {
            for (const auto& f : o->filters)
              if (std::string why = filter_error(f); !why.empty())
                return flag_value_error("volume prune", "[OPTIONS]", f, "--filter", why);
            std::vector<std::string> filters = non_empty(o->filters);
            // Since API 1.42 the daemon prunes anonymous volumes only unless told all=true;
            // an older one prunes them all, and docker warns accordingly.
            const std::string& version = ctx.api().version();
            bool anonymous_only = client::negotiate_version(version, "1.42") == "1.42";
            if (o->all && !anonymous_only)
              throw Error(
                  "\"--all\" requires API version 1.42, but the Docker daemon API version is " +
                  version);
            if (o->all) {
              for (const auto& f : filters)
                if (lower_trimmed(f.substr(0, f.find('='))) == "all")
                  throw Error("conflicting options: cannot specify both --all and --filter all=1");
              filters.push_back("all=true");
            }
            std::string warning =
                o->all || !anonymous_only
                    ? "WARNING! This will remove all local volumes not used by at least one "
                      "container."
                    : "WARNING! This will remove anonymous local volumes not used by at least "
                      "one container.";
            // A "no" is docker's cancelled error, which it leaves unsaid with status 0.
            if (!o->force && !confirm(warning)) return 0;
            Query q;
            if (auto f = filters_json(filters); !f.empty()) q.add("filters", f);
            json report = ctx.api().call("POST", "/volumes/prune", q);
            std::string out;
            double reclaimed = 0;
            json deleted = report.value("VolumesDeleted", json::array());
            if (deleted.is_array() && !deleted.empty()) {
              out += "Deleted Volumes:\n";
              for (const auto& name : deleted)
                out += (name.is_string() ? name.get<std::string>() : name.dump()) + "\n";
              out += "\n";
              reclaimed = report.value("SpaceReclaimed", 0.0);
            }
            print_out(out + "Total reclaimed space: " + human_size(reclaimed) + "\n");
            return 0;
          };
        });
}

}  // namespace

void register_volume_commands(Registry& r) {
  register_create(r);
  register_ls(r);
  register_inspect(r);
  register_rm(r);
  register_prune(r);
}

}  // namespace berth::cli
