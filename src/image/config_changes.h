// `import --change` and `commit --change`: Dockerfile instructions applied to an image's
// container config (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, VOLUME,
// WORKDIR), with Docker's wording for what it refuses.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace berth::image {

// Throws InvalidArgument naming the instruction that could not be applied.
void apply_config_changes(nlohmann::json& config, const std::vector<std::string>& changes);

}  // namespace berth::image
