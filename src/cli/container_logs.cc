// `berth logs`: the container's log stream, demultiplexed unless it has a tty.
#include <unistd.h>

#include "base/fs.h"
#include "cli/command.h"
#include "cli/units.h"

namespace berth::cli {

using nlohmann::json;

namespace {

struct LogsOptions {
  bool follow = false, timestamps = false, details = false;
  std::string since, until, tail = "all";
};

}  // namespace

void register_container_logs(Registry& r) {
  Context& ctx = r.context();
  r.add({.paths = {"container logs", "logs"},
         .usage = "[OPTIONS] CONTAINER",
         .summary = "Fetch the logs of a container",
         .min_args = 1,
         .max_args = 1},
        [&ctx](CLI::App& app, const Args& args) -> Run {
          auto o = std::make_shared<LogsOptions>();
          app.add_flag("--details", o->details, "Show extra details provided to logs");
          app.add_flag("-f,--follow", o->follow, "Follow log output");
          app.add_option("--since", o->since,
                         "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative "
                         "(e.g. \"42m\" for 42 minutes)")
              ->type_name("string");
          app.add_option("-n,--tail", o->tail,
                         "Number of lines to show from the end of the logs (default \"all\")")
              ->type_name("string");
          app.add_flag("-t,--timestamps", o->timestamps, "Show timestamps");
          app.add_option("--until", o->until,
                         "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or "
                         "relative (e.g. \"42m\" for 42 minutes)")
              ->type_name("string");
          return [&ctx, o, &args] {
            std::string path = "/containers/" + path_escape(args[0]);
            json c = ctx.api().call("GET", path + "/json");
            bool tty = c.contains("Config") && c["Config"].value("Tty", false);
            Query q;
            q.add("stdout", "1").add("stderr", "1");
            int64_t now = now_unix_nanos();
            if (!o->since.empty()) q.add("since", api_timestamp(o->since, now));
            if (!o->until.empty()) q.add("until", api_timestamp(o->until, now));
            q.flag("timestamps", o->timestamps).flag("follow", o->follow);
            q.add("tail", o->tail).flag("details", o->details);
            StdWriter demux;
            ctx.api().stream({}, path + "/logs", q, [&](std::string_view d) {
              if (tty) {
                write_all(STDOUT_FILENO, d);
              } else {
                demux.feed(d);
              }
            });
            if (!demux.error().empty()) throw Error(demux.error());
            return 0;
          };
        });
}

}  // namespace berth::cli
