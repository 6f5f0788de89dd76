// tag, rmi, history, inspect and prune: the image commands that are one small API call each.
#include <unistd.h>

#include <algorithm>
#include <cstdio>

#include "cli/command.h"
#include "cli/formatter.h"
#include "cli/units.h"
#include "cli/volume_list.h"
#include "oci/reference.h"

namespace berth::cli {

using nlohmann::json;

namespace {

void print_delete_items(const json& items, bool prune_style) {
  std::string out;
  for (const auto& item : items) {
    if (item.contains("Untagged"))
      out +=
          (prune_style ? "untagged: " : "Untagged: ") + item["Untagged"].get<std::string>() + "\n";
    if (item.contains("Deleted"))
      out += (prune_style ? "deleted: " : "Deleted: ") + item["Deleted"].get<std::string>() + "\n";
  }
  print_out(out);
}

void register_tag(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"image tag", "tag"},
         .usage = "SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]",
         .summary = "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE",
         .min_args = 2,
         .max_args = 2},
        [&ctx](CLI::App&, const Args& args) -> Run {
          return [&ctx, &args] {
            oci::Reference target;
            try {
              target = oci::parse_reference(args[1]);
            } catch (const Error& e) {
              throw Error("Error parsing reference: \"" + args[1] +
                          "\" is not a valid repository/tag: " + e.what());
            }
            if (!target.digest.empty())
              throw Error("refusing to create a tag with a digest reference");
            Query q;
            q.add("repo", target.name()).add("tag", target.tag.empty() ? "latest" : target.tag);
            ctx.api().call("POST", "/images/" + path_escape(args[0]) + "/tag", q);
            return 0;
          };
        });
}

void register_rmi(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool force = false, no_prune = false;
  };
  r.add({.paths = {"image rm", "image remove", "rmi"},
         .usage = "[OPTIONS] IMAGE [IMAGE...]",
         .summary = "Remove one or more images",
         .min_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-f,--force", o->force, "Force removal of the image");
          app.add_flag("--no-prune", o->no_prune, "Do not delete untagged parents");
          return [&ctx, o, &args] {
            int status = 0;
            for (const auto& name : args) {
              try {
                Query q;
                q.flag("force", o->force).flag("noprune", o->no_prune);
                print_delete_items(ctx.api().call("DELETE", "/images/" + path_escape(name), q),
                                   false);
              } catch (const ApiError& e) {
                std::fprintf(stderr, "%s\n", e.what());
                status = 1;
              }
            }
            return status;
          };
        });
}

void register_history(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool human = true, quiet = false, no_trunc = false;
    std::string format;
  };
  r.add({.paths = {"image history", "history"},
         .usage = "[OPTIONS] IMAGE",
         .summary = "Show the history of an image",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          add_format_flag(app, o->format);
          app.add_flag("-H,--human", o->human,
                       "Print sizes and dates in human readable format (default true)");
          app.add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
          app.add_flag("-q,--quiet", o->quiet, "Only show image IDs");
          return [&ctx, o, &args] {
            json hist = ctx.api().call("GET", "/images/" + path_escape(args[0]) + "/history");
            std::vector<json> rows;
            for (const auto& h : hist) {
              std::string id = h.value("Id", std::string());
              int64_t created = h.value("Created", int64_t{0});
              int64_t size = h.value("Size", int64_t{0});
              std::string by = h.value("CreatedBy", std::string());
              for (auto& c : by)
                if (c == '\t') c = ' ';
              rows.push_back({{"ID", id == "<missing>" || o->no_trunc ? id : truncate_id(id)},
                              {"CreatedSince", o->human ? time_ago(created) : rfc3339(created)},
                              {"CreatedAt", rfc3339(created)},
                              {"CreatedBy", o->no_trunc ? by : ellipsis(by, 45)},
                              {"Size", o->human ? human_size(static_cast<double>(size), 3)
                                                : std::to_string(size)},
                              {"Comment", h.value("Comment", std::string())},
                              {"Tags", h.contains("Tags") ? h["Tags"] : json::array()}});
            }
            ListFormat lf{
                o->quiet ? "{{.ID}}" : o->format,
                "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
                {{"ID", "IMAGE"},
                 {"CreatedSince", o->human ? "CREATED" : "CREATED AT"},
                 {"CreatedAt", "CREATED AT"},
                 {"CreatedBy", "CREATED BY"},
                 {"Size", "SIZE"},
                 {"Comment", "COMMENT"},
                 {"Tags", "TAGS"}}};
            print_out(render_list(lf, rows));
            return 0;
          };
        });
}

void register_inspect(Registry& r) {
  Context& ctx = r.context();
  const char* format_help =
      "Format output using a custom template:\n"
      "'json':             Print in JSON format\n"
      "'TEMPLATE':         Print output using the given Go template";
  r.add({.paths = {"image inspect"},
         .usage = "[OPTIONS] IMAGE [IMAGE...]",
         .summary = "Display detailed information on one or more images",
         .min_args = 1},
        [&ctx, format_help](CLI::App& app, const Args& args) -> Run {
          auto format = std::make_shared<std::string>();
          app.add_option("-f,--format", *format, format_help)->type_name("string");
          return
              [&ctx, format, &args] { return inspect_objects(ctx, args, *format, "image", false); };
        });
  struct Options {
    std::string format, type;
    bool size = false;
  };
  r.add({.paths = {"inspect"},
         .usage = "[OPTIONS] NAME|ID [NAME|ID...]",
         .summary = "Return low-level information on Docker objects",
         .min_args = 1},
        [&ctx, format_help](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<Options>();
          app.add_option("-f,--format", o->format, format_help)->type_name("string");
          app.add_flag("-s,--size", o->size, "Display total file sizes if the type is container");
          app.add_option("--type", o->type, "Only inspect objects of the given type")
              ->type_name("string");
          return [&ctx, o, &args] {
            static const char* kTypes[] = {"config", "container", "image",   "network", "node",
                                           "plugin", "secret",    "service", "task",    "volume"};
            if (!o->type.empty() &&
                std::find(std::begin(kTypes), std::end(kTypes), o->type) == std::end(kTypes)) {
              std::string all;
              for (const char* t : kTypes) all += std::string(all.empty() ? "" : "\", \"") + t;
              throw Error("unknown type: \"" + o->type + "\": must be one of \"" + all + "\"");
            }
            return inspect_objects(ctx, args, o->format, o->type, o->size);
          };
        });
}

void register_prune(Registry& r) {
  Context& ctx = r.context();
  struct Options {
    bool all = false, force = false;
    std::vector<std::string> filters;
  };
  r.add({.paths = {"image prune"},
         .usage = "[OPTIONS]",
         .summary = "Remove unused images",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          app.add_flag("-a,--all", o->all, "Remove all unused images, not just dangling ones");
          app.add_option("--filter", o->filters,
                         "Provide filter values (e.g. \"until=<timestamp>\")")
              ->allow_extra_args(false)
              ->type_name("filter");
          app.add_flag("-f,--force", o->force, "Do not prompt for confirmation");
          return [&ctx, o] {
            std::string warning =
                o->all ? "WARNING! This will remove all images without at least one container "
                         "associated to them."
                       : "WARNING! This will remove all dangling images.";
            if (!o->force && !confirm(warning)) return 0;
            std::vector<std::string> filters = o->filters;
            filters.push_back(std::string("dangling=") + (o->all ? "false" : "true"));
            Query q;
            q.add("filters", filters_json(filters));
            json report = ctx.api().call("POST", "/images/prune", q);
            const json& deleted =
                report.contains("ImagesDeleted") && report["ImagesDeleted"].is_array()
                    ? report["ImagesDeleted"]
                    : json::array();
            if (!deleted.empty()) {
              print_out("Deleted Images:\n");
              print_delete_items(deleted, true);
              print_out("\n");
            }
            print_out("Total reclaimed space: " + human_size(report.value("SpaceReclaimed", 0.0)) +
                      "\n");
            return 0;
          };
        });
}

}  // namespace

int inspect_objects(Context& ctx, const Args& names, const std::string& format,
                    const std::string& type, bool size) {
  // The kinds the generic inspect tries, in docker's order; swarm objects and plugins have no
  // counterpart in berthd.
  struct Kind {
    const char* type;
    std::string (*path)(const std::string&);
  };
  static const Kind kKinds[] = {
      {"container", [](const std::string& n) { return "/containers/" + path_escape(n) + "/json"; }},
      {"image", [](const std::string& n) { return "/images/" + path_escape(n) + "/json"; }},
      {"network", [](const std::string& n) { return "/networks/" + path_escape(n); }},
      {"volume", [](const std::string& n) { return "/volumes/" + path_escape(n); }},
  };
  std::vector<json> found;
  std::vector<std::string> errors;
  for (const auto& name : names) {
    bool resolved = false;
    for (const Kind& k : kKinds) {
      if (!type.empty() && type != k.type) continue;
      bool container = std::string(k.type) == "container";
      try {
        json v = ctx.api().call("GET", k.path(name), Query().flag("size", size && container));
        found.push_back(std::string(k.type) == "volume" ? volume_inspect_view(v) : v);
        if (size && !container) std::fprintf(stderr, "WARNING: --size ignored for %s\n", k.type);
      } catch (const ApiError& e) {
        // A kind that does not know the name answers 404 (an image name that is no
        // reference, 400) and the next kind is asked.
        bool skippable =
            e.status() == 404 || e.message().find("invalid reference format") != std::string::npos;
        if (type.empty() && skippable) continue;
        errors.push_back(e.what());
      }
      resolved = true;
      break;
    }
    if (!resolved) errors.push_back("Error: No such object: " + name);
  }
  // docker's inspectors: an indented array, a compact one for "json", else the template once
  // per object, or an empty line when there is none.
  if (format.empty()) {
    print_out(json(found).dump(4) + "\n");
  } else if (format == "json") {
    print_out(json(found).dump() + "\n");
  } else {
    print_out(found.empty() ? "\n" : render_each(format, found));
  }
  for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
  return errors.empty() ? 0 : 1;
}

void register_image_commands(Registry& r) {
  register_tag(r);
  register_rmi(r);
  register_history(r);
  register_inspect(r);
  register_prune(r);
}

}  // namespace berth::cli
