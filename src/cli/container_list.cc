// `berth ps`: docker's container list, its filters and its formatter.
#include "cli/command.h"
#include "cli/container_format.h"
#include "cli/container_opts.h"
#include "cli/formatter.h"

namespace berth::cli {

using nlohmann::json;

namespace {

struct PsOptions {
  bool all = false, quiet = false, latest = false, size = false, no_trunc = false;
  int last = -1;
  std::vector<std::string> filters;
  std::string format;
};

const char* const kDefaultFormat =
    "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{."
    "Names}}";

}  // namespace

void register_container_list(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container ls", "container list", "container ps", "ps"},
         .usage = "[OPTIONS]",
         .summary = "List containers",
         .max_args = 0},
        [&ctx](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<PsOptions>();
          app.add_flag("-a,--all", o->all, "Show all containers (default shows just running)");
          add_list(app, "-f,--filter", o->filters, "Filter output based on conditions provided",
                   "filter");
          add_format_flag(app, o->format);
          app.add_option("-n,--last", o->last,
                         "Show n last created containers (includes all "
                         "states) (default -1)")
              ->type_name("int");
          app.add_flag("-l,--latest", o->latest,
                       "Show the latest created container (includes all states)");
          app.add_flag("--no-trunc", o->no_trunc, "Don't truncate output");
          app.add_flag("-q,--quiet", o->quiet, "Only display container IDs");
          app.add_flag("-s,--size", o->size, "Display total file sizes");
          return [&ctx, o] {
            Query q;
            int limit = o->latest ? 1 : o->last;
            q.flag("all", o->all || limit > 0);
            if (limit > 0) q.add("limit", std::to_string(limit));
            std::string format = o->format;
            if (format.empty() && !o->quiet && ctx.config().contains("psFormat") &&
                ctx.config()["psFormat"].is_string())
              format = ctx.config()["psFormat"].get<std::string>();
            // docker asks for sizes when they are shown, whichever way they were asked for.
            bool size = o->size || (!o->quiet && format.find(".Size") != std::string::npos);
            q.flag("size", size);
            if (auto f = filters_json(o->filters); !f.empty()) q.add("filters", f);
            json list = ctx.api().call("GET", "/containers/json", q);
            std::vector<json> rows;
            if (list.is_array())
              for (const auto& c : list) rows.push_back(ps_row(c, !o->no_trunc));
            std::string table = kDefaultFormat;
            if (o->size) table += "\t{{.Size}}";
            if (o->quiet) format = "{{.ID}}";
            print_out(render_list({format, table, ps_headers()}, rows));
            return 0;
          };
        });
}

}  // namespace berth::cli
