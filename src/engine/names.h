// Docker-style random container names ("adjective_surname") and name rules.
#pragma once

#include <string>

namespace berth::engine {

std::string random_name();
std::string random_id();  // 64 hex
// Throws InvalidArgument in Docker's words for a name outside [a-zA-Z0-9][a-zA-Z0-9_.-]+.
void check_container_name(const std::string& name);

}  // namespace berth::engine
