// events: the container's stats as runc's JSON lines, once or every --interval seconds.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cmd/runtime/verbs.h"

namespace berth::runtime_cli {

Verb add_events(CLI::App& app) {
  struct Args {
    bool once = false;
    int interval = 5;
    std::string id;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("events", "print container stats");
  cmd->add_flag("--stats", a->once, "print stats once and exit");
  cmd->add_option("--interval", a->interval, "seconds between stats");
  cmd->add_option("id", a->id)->required();
  return {cmd, [a](runtime::Runtime& rt) {
            for (;;) {
              nlohmann::json ev = {{"type", "stats"}, {"id", a->id}, {"data", rt.stats(a->id)}};
              // Flushed per line: a reader follows the stream as it comes.
              std::cout << ev.dump() << std::endl;
              if (a->once) break;
              ::sleep(static_cast<unsigned>(a->interval));
            }
            return 0;
          }};
}

}  // namespace berth::runtime_cli
