// docker's `container prune` and `network prune`: a confirmation, filters, one API call, the
// ids removed under a heading, and for containers the space reclaimed.
#include <memory>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/container_opts.h"
#include "cli/template.h"
#include "cli/units.h"

namespace berth::cli {

void add_prune_command(Registry& r, const PruneCommand& p) {
  Context& ctx = r.context();
  struct Options {
    bool force = false;
    std::vector<std::string> filters;
  };
  r.add({.paths = {p.path}, .usage = "[OPTIONS]", .summary = p.summary, .max_args = 0},
        [&ctx, p](CLI::App& app, const Args&) -> Run {
          auto o = std::make_shared<Options>();
          add_list(app, "--filter", o->filters,
                   "Provide filter values (e.g. \"until=<timestamp>\")", "filter");
          app.add_flag("-f,--force", o->force, "Do not prompt for confirmation");
          return [&ctx, o, p] {
            if (!o->force && !confirm(p.warning)) return 0;
            Query q;
            if (auto f = filters_json(o->filters); !f.empty()) q.add("filters", f);
            nlohmann::json report = ctx.api().call("POST", p.endpoint, q);
            std::string out;
            nlohmann::json deleted = report.value(p.deleted_key, nlohmann::json::array());
            if (deleted.is_array() && !deleted.empty()) {
              out += p.heading + "\n";
              for (const auto& id : deleted) out += go_sprint(id) + "\n";
              out += "\n";
            }
            if (p.reports_space)
              out += "Total reclaimed space: " + human_size(report.value("SpaceReclaimed", 0.0)) +
                     "\n";
            print_out(out);
            return 0;
          };
        });
}

}  // namespace berth::cli
