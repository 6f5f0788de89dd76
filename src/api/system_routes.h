// /_ping, /version and /info: what clients call first, to negotiate and to show the daemon.
#pragma once

#include <string>

#include "api/router.h"
#include "api/services.h"

namespace berth::api {

struct DaemonFacts {
  std::string id;  // stable across restarts, kept in the data root
  std::string data_root;
  std::string exec_root;
  std::string runtime_path;  // berth-runtime next to berthd
};

void add_system_routes(Router& router, const DaemonFacts& facts, Services& services);

}  // namespace berth::api
