// login, logout, pull and push: credentials kept as docker keeps them (config.json `auths`,
// base64 user:password), sent to the daemon as X-Registry-Auth.
#pragma once

#include "cli/command.h"

namespace berth::cli {

void register_registry_commands(Registry& r);

}  // namespace berth::cli
