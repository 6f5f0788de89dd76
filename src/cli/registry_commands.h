// login, logout, pull and push: credentials kept as docker keeps them (config.json `auths`,
// base64 user:password), sent to the daemon as X-Registry-Auth.
#pragma once

#include <string>

#include "cli/command.h"

namespace berth::cli {

void register_registry_commands(Registry& r);
// X-Registry-Auth for a registry (a reference's domain): what `login` stored for it.
std::string registry_auth_header(Context& ctx, const std::string& domain);

}  // namespace berth::cli
